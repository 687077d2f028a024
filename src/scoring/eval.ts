import { z } from 'zod';
import { ItemKind, LEVELS, Level } from '../core/types.ts';
import { normalise, normaliseItemText } from '../text/normalise.ts';
import type { RuleEngine } from './engine.ts';
import { CATEGORIES, isCategory } from '../config/rules.ts';

/** One labelled item (test/fixtures/labelled/*.jsonl): title defaults to '', kind to news. */
export const LabelledRow = z.strictObject({
  id: z.union([z.string().min(1), z.number().transform(String)]),
  title: z.string().default(''),
  body: z.string(),
  kind: ItemKind.default('news'),
  risk: z.boolean(),
  category: z.string().refine(isCategory, { message: `expected one of ${CATEGORIES.join('、')}` }).nullable().optional(),
  level: Level.nullable().optional(),
});
export type LabelledRow = z.infer<typeof LabelledRow>;

export interface Prf {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalMiss {
  id: string;
  title: string;
  expected: { risk: boolean; category: string | null; level: Level | null };
  actual: { risk: boolean; category: string | null; level: Level | null; score: number };
  /** The reasons of the rules that fired (or came closest), for reading why. */
  reasons: string[];
}

export interface EvalReport {
  total: number;
  /** Risk is the positive class. */
  overall: Prf;
  /** Per category: a true positive needs the predicted category to equal the label. */
  categories: Record<string, Prf>;
  /** Among items both labelled and predicted risky, the share filed under the right category. */
  categoryAccuracy: number;
  /** confusion[expected][actual], with '无' for no risk. */
  levelConfusion: Record<string, Record<string, number>>;
  /** Risky items whose predicted level equals the label. */
  levelAccuracy: number;
  worstFalsePositives: EvalMiss[];
  worstFalseNegatives: EvalMiss[];
  /** Items flagged as risk but filed under the wrong category. */
  wrongCategory: EvalMiss[];
}

const NONE = '无';

function prf(tp: number, fp: number, fn: number): Prf {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, precision: round3(precision), recall: round3(recall), f1: round3(f1) };
}
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * Scores every row the way the pipeline does (title + body, normalised) and compares with the labels.
 * `at` pins calendar boosts (default: a date outside every period) so results do not drift by season.
 */
export function evaluate(engine: RuleEngine, rows: readonly LabelledRow[], opts: { at?: Date; worst?: number } = {}): EvalReport {
  const at = opts.at ?? new Date('2026-05-10T04:00:00Z');
  const worst = opts.worst ?? 15;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let catRight = 0;
  let levelRight = 0;
  let riskyBoth = 0;
  const perCat = new Map<string, { tp: number; fp: number; fn: number }>();
  const cat = (c: string) => perCat.get(c) ?? (perCat.set(c, { tp: 0, fp: 0, fn: 0 }), perCat.get(c)!);
  const confusion: Record<string, Record<string, number>> = {};
  for (const a of [...LEVELS, NONE]) confusion[a] = Object.fromEntries([...LEVELS, NONE].map((b) => [b, 0]));
  const fps: (EvalMiss & { rank: number })[] = [];
  const fns: (EvalMiss & { rank: number })[] = [];
  const wrong: EvalMiss[] = [];

  for (const row of rows) {
    const text = normaliseItemText(row.title, row.body);
    const r = engine.score({ text, kind: row.kind, title: normalise(row.title), at });
    const expected = { risk: row.risk, category: row.risk ? row.category ?? null : null, level: row.risk ? row.level ?? null : null };
    const actual = { risk: r.risk, category: r.category, level: r.level, score: r.score };
    const miss = (): EvalMiss => ({
      id: row.id,
      title: row.title,
      expected,
      actual,
      reasons: [...r.explanation].sort((a, b) => Number(b['potential'] ?? 0) - Number(a['potential'] ?? 0)).slice(0, 3).map((e) => `${e.rule}: ${e.reason}`),
    });
    confusion[expected.level ?? NONE]![actual.level ?? NONE]!++;

    if (row.risk && r.risk) {
      tp++;
      riskyBoth++;
      if (r.category === expected.category) {
        catRight++;
        cat(r.category!).tp++;
      } else {
        if (expected.category) cat(expected.category).fn++;
        if (r.category) cat(r.category).fp++;
        wrong.push(miss());
      }
      if (r.level === expected.level) levelRight++;
    } else if (row.risk) {
      fn++;
      if (expected.category) cat(expected.category).fn++;
      const potential = Math.max(0, ...r.explanation.map((e) => Number(e['potential'] ?? 0)));
      fns.push({ ...miss(), rank: (4 - LEVELS.indexOf(expected.level ?? '蓝')) * 1000 - potential });
    } else if (r.risk) {
      fp++;
      if (r.category) cat(r.category).fp++;
      fps.push({ ...miss(), rank: r.score });
    }
  }

  const categories: Record<string, Prf> = {};
  for (const [c, v] of [...perCat].sort(([a], [b]) => a.localeCompare(b, 'zh'))) categories[c] = prf(v.tp, v.fp, v.fn);
  const strip = ({ rank: _r, ...m }: EvalMiss & { rank: number }): EvalMiss => m;
  return {
    total: rows.length,
    overall: prf(tp, fp, fn),
    categories,
    categoryAccuracy: riskyBoth ? round3(catRight / riskyBoth) : 1,
    levelConfusion: confusion,
    levelAccuracy: riskyBoth ? round3(levelRight / riskyBoth) : 1,
    worstFalsePositives: fps.sort((a, b) => b.rank - a.rank).slice(0, worst).map(strip),
    worstFalseNegatives: fns.sort((a, b) => b.rank - a.rank).slice(0, worst).map(strip),
    wrongCategory: wrong.slice(0, Math.max(worst, 100)),
  };
}

/** A labelled file with a bad line: names the file, the line and the field. */
export class LabelledError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${field ? field + ': ' : ''}${problem}`);
    this.name = 'LabelledError';
  }
}

/** Parses JSON Lines into rows, naming the line (and field) of a bad one. Blank lines are skipped. */
export function parseLabelled(jsonl: string, file = 'labelled.jsonl'): LabelledRow[] {
  const rows: LabelledRow[] = [];
  const seen = new Map<string, number>();
  jsonl.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const l = raw.trim();
    if (!l) return;
    let value: unknown;
    try {
      value = JSON.parse(l);
    } catch (e) {
      throw new LabelledError(file, line, '', `invalid JSON (${(e as Error).message})`);
    }
    const parsed = LabelledRow.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new LabelledError(file, line, issue.path.join('.'), issue.message);
    }
    const prev = seen.get(parsed.data.id);
    if (prev !== undefined) throw new LabelledError(file, line, 'id', `duplicate id '${parsed.data.id}' (first on line ${prev})`);
    seen.set(parsed.data.id, line);
    rows.push(parsed.data);
  });
  return rows;
}
