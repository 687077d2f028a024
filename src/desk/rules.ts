import { relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ItemKind, type RawItem, type ScoredItem } from '../core/types.ts';
import type { Processor } from '../pipeline/process.ts';
import type { Store } from '../store/store.ts';
import type { RuleEngine } from '../scoring/engine.ts';
import { ruleSetOf } from '../scoring/engine.ts';
import { runRuleFileTests, type RuleTestResult } from '../scoring/rule-tests.ts';
import type { DeskDeps } from './deps.ts';
import { fieldIssues } from './validation.ts';
import { regionName } from './region-names.ts';
import { LAST_BACKTEST_FILE, readLastBacktest } from './backtest-file.ts';

const DAY_MS = 86_400_000;
/** How far back the rules page counts hits. */
export const HIT_WINDOW_DAYS = 7;
/** Most risk items read to count hits; past it the counts say they are a lower bound. */
export const HIT_SCAN_CAP = 20_000;
const PAGE = 500;

export interface RuleHits {
  from: string;
  to: string;
  /** Risk items read. */
  scanned: number;
  /** True when the window held more risk items than HIT_SCAN_CAP: counts are then a lower bound. */
  capped: boolean;
  /** rule id → items whose explanation has that rule matched. */
  byRule: Record<string, number>;
}

/**
 * Counts, per rule, the stored items of a window whose explanation has the rule matched. Reads
 * the risk items page by page through the store seam (any engine), at most `cap` of them.
 */
export async function countRuleHits(store: Store, opts: { from: Date; to: Date; cap?: number }): Promise<RuleHits> {
  const cap = opts.cap ?? HIT_SCAN_CAP;
  const byRule: Record<string, number> = {};
  let scanned = 0;
  let total = 0;
  for (let offset = 0; offset < cap; offset += PAGE) {
    const page = await store.searchItems({ from: opts.from.toISOString(), to: opts.to.toISOString(), risk: true, limit: Math.min(PAGE, cap - offset), offset });
    total = page.total;
    for (const it of page.items) {
      scanned++;
      // one item counts once per rule, however many terms of it fired
      for (const rule of new Set(it.explanation.filter((e) => e.matched).map((e) => e.rule))) byRule[rule] = (byRule[rule] ?? 0) + 1;
    }
    if (page.items.length < PAGE || scanned >= total) break;
  }
  return { from: opts.from.toISOString(), to: opts.to.toISOString(), scanned, capped: total > scanned, byRule };
}

/** The `tests:` results of one engine; an engine never changes, so they are computed once per load. */
const testCache = new WeakMap<RuleEngine, RuleTestResult[]>();
function testsOf(engine: RuleEngine): RuleTestResult[] {
  let r = testCache.get(engine);
  if (!r) {
    r = runRuleFileTests(engine);
    testCache.set(engine, r);
  }
  return r;
}

export interface RuleRow {
  id: string;
  name: string;
  category: string;
  /** The rule file, relative to the rules folder. */
  file: string;
  levels: Partial<Record<string, number>>;
  hits: number;
  tests: { total: number; passed: number; cases: Omit<RuleTestResult, 'file' | 'rule'>[] };
}

/** Every rule of the live engine with its hits in the window and its test cases' results. */
export function ruleRows(engine: RuleEngine, hits: RuleHits): RuleRow[] {
  const set = ruleSetOf(engine);
  const results = set ? testsOf(engine) : [];
  const byRule = new Map<string, RuleTestResult[]>();
  for (const r of results) byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), r]);
  const specs = new Map((set?.rules ?? []).map((s) => [s.id, s]));
  return engine.rules.map((r) => {
    const spec = specs.get(r.id);
    const cases = (byRule.get(r.id) ?? []).map(({ file: _f, rule: _r, ...c }) => c);
    return {
      id: r.id,
      name: r.name,
      category: r.category,
      file: spec ? relative(engine.dir, spec.file) || spec.file : '',
      levels: spec ? { ...spec.levels } : {},
      hits: hits.byRule[r.id] ?? 0,
      tests: { total: cases.length, passed: cases.filter((c) => c.ok).length, cases },
    };
  });
}

export const ScoreBody = z
  .object({
    title: z.string().max(500).default(''),
    text: z.string().trim().min(1, '请输入要研判的文本').max(20_000),
    kind: ItemKind.default('news'),
  })
  .strict();

/**
 * DeskDeps.scoreText from the process stage's processor: the pasted text goes through exactly
 * what a fed item goes through (normalise, regions, the live rules), as a desk-made item that is
 * never stored.
 */
export function scoreTextWith(process: Processor, now: () => Date = () => new Date()): NonNullable<DeskDeps['scoreText']> {
  return (title, body, kind) => {
    const at = now().toISOString();
    const raw: RawItem = { id: 'desk-rules-page', sourceId: 'desk', kind, title, body, publishedAt: at, fetchedAt: at, fields: {} };
    return process(raw);
  };
}

/** What the page needs from a scored text: the verdict, the text the hit offsets point into, the hits and the full explanation. */
function scoreView(s: ScoredItem) {
  return {
    risk: s.risk,
    level: s.level,
    category: s.category,
    score: s.score,
    regions: s.regions.map((code) => ({ code, name: regionName(code) ?? code })),
    text: s.text,
    hits: s.hits,
    explanation: s.explanation,
  };
}

/** The rules page's API: the live rules with hits and tests, scoring pasted text, the last backtest. */
export function registerRules(app: FastifyInstance, deps: DeskDeps): void {
  const now = () => deps.now?.() ?? new Date();

  app.get('/api/v1/rules', async (_req, reply) => {
    const engine = deps.ruleEngine?.();
    if (!engine) return reply.code(501).send({ error: 'the rules are not available in this process' });
    const to = now();
    const hits = await countRuleHits(deps.store, { from: new Date(to.getTime() - HIT_WINDOW_DAYS * DAY_MS), to });
    const rules = ruleRows(engine, hits);
    const cases = rules.flatMap((r) => r.tests.cases);
    return {
      loadedAt: engine.loadedAt,
      window: { days: HIT_WINDOW_DAYS, from: hits.from, to: hits.to, scanned: hits.scanned, capped: hits.capped },
      tests: { total: cases.length, passed: cases.filter((c) => c.ok).length },
      rules,
    };
  });

  app.post('/api/v1/rules/score', async (req, reply) => {
    if (!deps.scoreText) return reply.code(501).send({ error: 'scoring is not available in this process' });
    const body = ScoreBody.safeParse(req.body ?? {});
    if (!body.success) return reply.code(400).send({ error: 'invalid text', issues: fieldIssues(body.error) });
    return scoreView(deps.scoreText(body.data.title, body.data.text, body.data.kind));
  });

  app.get('/api/v1/rules/backtest', async (req, reply) => {
    if (!deps.dataDir) return { report: null, reason: 'no data folder is configured for this process' };
    try {
      const report = readLastBacktest(deps.dataDir);
      return report ? { report } : { report: null, reason: 'no backtest has been saved yet (sentinel rules backtest)' };
    } catch (err) {
      // the message names the file's full path: keep it in the log, as for any engine error
      req.log.warn({ err }, 'last backtest unreadable');
      return reply.code(500).send({ error: `${LAST_BACKTEST_FILE} is unreadable; the desk log says why` });
    }
  });
}
