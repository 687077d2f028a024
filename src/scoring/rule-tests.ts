import type { Level } from '../core/types.ts';
import { normalise, normaliseItemText } from '../text/normalise.ts';
import { ruleSetOf, type RuleEngine } from './engine.ts';

export interface RuleTestResult {
  file: string;
  rule: string;
  index: number;
  text: string;
  ok: boolean;
  expected: unknown;
  actual: { match: boolean; level: Level | null; score: number };
  /** The rule's reason, so a failing case explains itself. */
  reason?: string;
  line?: number;
}

/**
 * Runs every `tests:` block. A case checks its own rule: `match: true` means that rule raises an
 * alert (it matched and reached a level); `level`, when given, must be exactly that rule's level.
 */
export function runRuleFileTests(engine: RuleEngine): RuleTestResult[] {
  const set = ruleSetOf(engine);
  if (!set) throw new Error('runRuleFileTests needs an engine from loadRuleEngine');
  const results: RuleTestResult[] = [];
  for (const rule of set.rules) {
    for (const t of rule.tests) {
      const text = t.title !== undefined ? normaliseItemText(t.title, t.text) : normalise(t.text);
      const res = engine.score({
        text,
        kind: t.kind,
        ...(t.title !== undefined ? { title: normalise(t.title) } : {}),
        ...(t.sourceWeight !== undefined ? { sourceWeight: t.sourceWeight } : {}),
        ...(t.at !== undefined ? { at: new Date(t.at) } : {}),
      });
      const ex = res.explanation.find((e) => e.rule === rule.id);
      const actual = { match: ex?.level != null, level: ex?.level ?? null, score: ex?.score ?? 0 };
      const ok = actual.match === t.expect.match && (t.expect.level === undefined || t.expect.level === actual.level);
      results.push({
        file: rule.file,
        rule: rule.id,
        index: t.index,
        text: t.text,
        ok,
        expected: t.expect,
        actual,
        ...(ex ? { reason: ex.reason } : {}),
        line: t.line,
      });
    }
  }
  return results;
}
