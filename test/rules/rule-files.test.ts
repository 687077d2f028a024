import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, loadRuleSet } from '../../src/config/rules.ts';
import { compileRuleEngine } from '../../src/scoring/engine.ts';
import { runRuleFileTests } from '../../src/scoring/rule-tests.ts';

// The bureau's real rules/ folder: every `tests:` case in every rule file is one vitest case.
const RULES = path.resolve(import.meta.dirname, '../../rules');
const set = await loadRuleSet(RULES);
const engine = compileRuleEngine(set);
const results = runRuleFileTests(engine);

describe('rules/risk/*.yaml tests blocks', () => {
  it.each(results.map((r) => [`${path.basename(r.file)}:${r.line} ${r.text.slice(0, 40)}`, r] as const))('%s', (_name, r) => {
    const expected = r.expected as { match: boolean; level?: unknown };
    // Comparing the reason alongside makes a failure show why the rule scored what it did.
    expect({ ...r.actual, reason: r.reason }).toMatchObject(
      expected.level === undefined ? { match: expected.match } : { match: expected.match, level: expected.level },
    );
    expect(r.ok).toBe(true);
  });
});

describe('rules/ as a whole', () => {
  it('covers every category of the taxonomy', () => {
    const covered = new Set(set.rules.map((r) => r.category));
    expect(CATEGORIES.filter((c) => !covered.has(c))).toEqual([]);
  });

  it('has both a matching and a non-matching case in every rule file', () => {
    for (const rule of set.rules) {
      expect(rule.tests.some((t) => t.expect.match), rule.file).toBe(true);
      expect(rule.tests.some((t) => !t.expect.match), rule.file).toBe(true);
    }
  });

  it('documents every category in rules/README.md', async () => {
    const readme = await readFile(path.join(RULES, 'README.md'), 'utf8');
    for (const c of CATEGORIES) expect(readme).toContain(c);
  });
});
