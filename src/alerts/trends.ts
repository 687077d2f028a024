import type { Level } from '../core/types.ts';
import type { AggField, AggregateQuery, Store } from '../store/store.ts';
import type { NewTermRule, SpikeRule, TrendFilter, TrendRule } from '../config/trends.ts';

/*
 * Trends: counts of items per key (term, category, region, business…) in a window, compared
 * with what came before. Everything goes through `store.aggregate`, so SQLite and
 * Elasticsearch give the same answers.
 *
 * The spike test, documented once:
 *   - the baseline is the EWMA of the counts of the N previous windows of the same length
 *     (oldest first, smoothing alpha), with an exponentially weighted variance (Finch 2009);
 *   - counts are Poisson-like, so the standard deviation is at least sqrt(mean) and at least 1;
 *   - when the baseline mean is large (≥ small_mean, default 10) the current count fires when
 *     its z-score reaches `z` (default 3);
 *   - when the mean is small a z-score is meaningless (0 → 3 is "z = 3"), so the Poisson upper
 *     tail P(X ≥ count | λ = max(mean, 0.5)) decides: it fires at or below `p` (default 0.001);
 *   - in both cases the count must reach `min_count` (default 5) and `ratio` × the mean
 *     (default 2), so small numbers and gentle drifts never fire.
 */

export interface SpikeOptions {
  alpha: number;
  z: number;
  p: number;
  smallMean: number;
  minCount: number;
  ratio: number;
}

export const DEFAULT_SPIKE: SpikeOptions = { alpha: 0.3, z: 3, p: 0.001, smallMean: 10, minCount: 5, ratio: 2 };

export interface SpikeResult {
  count: number;
  /** EWMA of the previous windows. */
  mean: number;
  sd: number;
  z: number;
  /** Poisson P(X ≥ count) under the baseline mean. */
  p: number;
  method: 'z' | 'poisson';
  fires: boolean;
}

/** EWMA mean and exponentially weighted variance of counts, oldest first. */
export function ewma(counts: readonly number[], alpha: number): { mean: number; variance: number } {
  if (!counts.length) return { mean: 0, variance: 0 };
  let mean = counts[0]!;
  let variance = 0;
  for (const c of counts.slice(1)) {
    const diff = c - mean;
    const incr = alpha * diff;
    mean += incr;
    variance = (1 - alpha) * (variance + diff * incr);
  }
  return { mean, variance };
}

/** P(X ≥ k) for X ~ Poisson(λ), summed upwards from k in log space (stable for large k). */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  let logPmf = -lambda;
  for (let i = 1; i <= k; i++) logPmf += Math.log(lambda) - Math.log(i);
  let term = Math.exp(logPmf);
  let sum = 0;
  for (let i = k; term > 1e-300 && i < k + 10_000; i++) {
    sum += term;
    term *= lambda / (i + 1);
    if (term < sum * 1e-15) break;
  }
  return Math.min(1, sum);
}

export function spikeTest(count: number, previous: readonly number[], o: SpikeOptions = DEFAULT_SPIKE): SpikeResult {
  const { mean, variance } = ewma(previous, o.alpha);
  const sd = Math.sqrt(Math.max(variance, mean, 1));
  const z = (count - mean) / sd;
  const p = poissonUpperTail(count, Math.max(mean, 0.5));
  const method = mean >= o.smallMean ? 'z' : 'poisson';
  const significant = method === 'z' ? z >= o.z : p <= o.p;
  const fires = significant && count >= o.minCount && count >= o.ratio * mean;
  return { count, mean, sd, z, p, method, fires };
}

// ---------------------------------------------------------------------------------------------

export interface TimeWindow {
  from: Date;
  to: Date;
}

/** The window ending at `now` and the n previous ones of the same length, oldest first; the current is last. */
export function windows(now: Date, lengthMs: number, previous: number): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (let i = previous; i >= 0; i--) {
    out.push({ from: new Date(now.getTime() - (i + 1) * lengthMs), to: new Date(now.getTime() - i * lengthMs) });
  }
  return out;
}

type Filter = AggregateQuery['filter'];

/** Items in [from, to): the store's `to` is inclusive, so stop one millisecond short. */
function windowFilter(base: Filter, w: TimeWindow): Filter {
  return { ...base, from: w.from.toISOString(), to: new Date(w.to.getTime() - 1).toISOString() };
}

export function filterOf(f: TrendFilter, region?: string): Filter {
  return {
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.category ? { category: f.category } : {}),
    ...(f.source ? { source: f.source } : {}),
    ...(f.risk !== undefined ? { risk: f.risk } : {}),
    ...(region ? { region: [region] } : f.region ? { region: f.region } : {}),
  } as Filter;
}

/** Counts per key in each window (same order as `ws`). */
export async function countsPerWindow(store: Store, base: Filter, field: AggField, ws: TimeWindow[], size = 500): Promise<Map<string, number>[]> {
  return Promise.all(
    ws.map(async (w) => new Map((await store.aggregate({ filter: windowFilter(base, w), groupBy: field, size })).map((b) => [b.key, b.count]))),
  );
}

export interface RisingKey extends SpikeResult {
  key: string;
  /** Counts of the previous windows, oldest first. */
  previous: number[];
}

/** Keys of the current window ordered by how far they rose above their baseline. */
export async function rising(store: Store, base: Filter, field: AggField, now: Date, lengthMs: number, previous: number, o: SpikeOptions = DEFAULT_SPIKE): Promise<RisingKey[]> {
  const ws = windows(now, lengthMs, previous);
  const counts = await countsPerWindow(store, base, field, ws);
  const current = counts.at(-1)!;
  const out: RisingKey[] = [];
  for (const [key, count] of current) {
    const prev = counts.slice(0, -1).map((m) => m.get(key) ?? 0);
    out.push({ key, previous: prev, ...spikeTest(count, prev, o) });
  }
  return out.sort((a, b) => Number(b.fires) - Number(a.fires) || a.p - b.p || b.z - a.z || b.count - a.count || a.key.localeCompare(b.key));
}

export interface NewKey {
  key: string;
  count: number;
}

/** Keys with at least `minCount` items in the window and none in the `lookbackMs` before it. */
export async function newKeys(store: Store, base: Filter, field: 'term' | 'business', w: TimeWindow, lookbackMs: number, minCount: number): Promise<NewKey[]> {
  const [history, current] = await countsPerWindow(store, base, field, [{ from: new Date(w.from.getTime() - lookbackMs), to: w.from }, w], 10_000);
  return [...current!]
    .filter(([k, n]) => n >= minCount && !history!.has(k))
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

// ---------------------------------------------------------------------------------------------

export interface TrendSignal {
  rule: string;
  name: string;
  type: TrendRule['type'];
  level: Level;
  /** The key that fired ('全部' for an ungrouped frequency rule). */
  key: string;
  field?: string;
  count: number;
  baseline?: number;
  z?: number;
  p?: number;
  from: string;
  to: string;
  /** One Chinese sentence for the desk and the briefing. */
  message: string;
}

const FIELD_LABEL: Record<string, string> = { category: '类别', region: '区域', term: '关键词', business: '经营主体', source: '来源', kind: '信息类型' };
const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

function spikeOptions(r: SpikeRule): SpikeOptions {
  return { alpha: r.alpha, z: r.z, p: r.p, smallMean: r.small_mean, minCount: r.min_count, ratio: r.ratio };
}

/** Runs every trend rule as of `now`; a county caller passes its region so only its items count. */
export async function evaluateTrendRules(store: Store, rules: readonly TrendRule[], now: Date, region?: string): Promise<TrendSignal[]> {
  const out: TrendSignal[] = [];
  for (const r of rules) {
    const base = filterOf(r.filter, region);
    const w = windows(now, r.window, 0)[0]!;
    const span = { from: w.from.toISOString(), to: w.to.toISOString() };
    const head = { rule: r.id, name: r.name, type: r.type, level: r.level, ...span };
    if (r.type === 'frequency') {
      const field: AggField = r.group_by ?? 'kind';
      const [counts] = await countsPerWindow(store, base, field, [w]);
      const entries = r.group_by ? [...counts!] : [['全部', [...counts!.values()].reduce((a, b) => a + b, 0)] as [string, number]];
      for (const [key, count] of entries) {
        if (count < r.threshold) continue;
        const what = r.group_by ? `${FIELD_LABEL[r.group_by]}「${key}」` : '相关信息';
        out.push({ ...head, key, ...(r.group_by ? { field: r.group_by } : {}), count, message: `${what}${hours(r.window)}内 ${count} 条，达到阈值 ${r.threshold}` });
      }
    } else if (r.type === 'spike') {
      for (const k of await rising(store, base, r.group_by, now, r.window, r.baseline_windows, spikeOptions(r))) {
        if (!k.fires) continue;
        out.push({
          ...head,
          key: k.key,
          field: r.group_by,
          count: k.count,
          baseline: k.mean,
          z: k.z,
          p: k.p,
          message: `${FIELD_LABEL[r.group_by]}「${k.key}」${hours(r.window)}内 ${k.count} 条，基线 ${fmt(k.mean)}（${k.method === 'z' ? `z=${fmt(k.z)}` : `泊松 p=${k.p.toExponential(1)}`}）`,
        });
      }
    } else {
      const nr = r as NewTermRule;
      for (const k of await newKeys(store, base, nr.field, w, nr.lookback, nr.min_count)) {
        out.push({ ...head, key: k.key, field: nr.field, count: k.count, message: `新出现${FIELD_LABEL[nr.field]}「${k.key}」：${hours(nr.window)}内 ${k.count} 条，此前 ${Math.round(nr.lookback / 86_400_000)} 天未见` });
      }
    }
  }
  return out;
}

function hours(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000} 天` : `${ms / 3600_000} 小时`;
}

// ---------------------------------------------------------------------------------------------

export const TREND_WINDOWS = { '24h': 24 * 3600_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type TrendWindow = keyof typeof TREND_WINDOWS;

/** How many earlier windows form each view's baseline: a week of days, a month of weeks, a quarter of months. */
const BASELINE_WINDOWS: Record<TrendWindow, number> = { '24h': 7, '7d': 4, '30d': 3 };

/** Looser than the rules: the consultation view shows what is climbing, the rules decide what is a signal. */
const VIEW_SPIKE: SpikeOptions = { alpha: 0.3, z: 2, p: 0.01, smallMean: 10, minCount: 3, ratio: 1.5 };

export interface Series {
  interval: 'hour' | 'day';
  /** Bucket starts (UTC ISO), oldest first. */
  times: string[];
  series: { key: string; data: number[] }[];
}

export interface TrendsView {
  window: TrendWindow;
  from: string;
  to: string;
  total: number;
  rising: { terms: RisingKey[]; categories: RisingKey[]; businesses: RisingKey[] };
  newTerms: (NewKey & { field: 'term' | 'business' })[];
  /** Region (city level; county level for a county caller) × category counts. */
  byRegionCategory: { regions: string[]; categories: string[]; cells: number[][] };
  series: Series;
  signals: TrendSignal[];
}

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

/**
 * Everything the trends page and the briefing show for one window ending at `now`. `region`
 * narrows every count to one region (a county caller's own).
 */
export async function computeTrends(
  store: Store,
  opts: { window: TrendWindow; now: Date; region?: string; rules?: readonly TrendRule[]; top?: number },
): Promise<TrendsView> {
  const len = TREND_WINDOWS[opts.window];
  const prev = BASELINE_WINDOWS[opts.window];
  const base: Filter = (opts.region ? { region: [opts.region] } : {}) as Filter;
  const top = opts.top ?? 10;
  const cur = windows(opts.now, len, 0)[0]!;
  const curFilter = windowFilter(base, cur);
  const cut = (ks: RisingKey[]) => ks.filter((k) => k.count > k.mean).slice(0, top);

  const [terms, categories, businesses, newT, newB, kinds] = await Promise.all([
    rising(store, base, 'term', opts.now, len, prev, VIEW_SPIKE),
    rising(store, base, 'category', opts.now, len, prev, VIEW_SPIKE),
    rising(store, base, 'business', opts.now, len, prev, VIEW_SPIKE),
    newKeys(store, base, 'term', cur, 30 * 86_400_000, 2),
    newKeys(store, base, 'business', cur, 30 * 86_400_000, 2),
    store.aggregate({ filter: curFilter, groupBy: 'kind', size: 10 }),
  ]);

  // heat table: the busiest categories, each split by region rolled up to the city
  const topCats = (await store.aggregate({ filter: curFilter, groupBy: 'category', size: 12 })).map((b) => b.key);
  const roll = (code: string) => (opts.region ? code : `${code.slice(0, 4)}00`);
  const cellMap = new Map<string, Map<string, number>>();
  for (const c of topCats) {
    for (const b of await store.aggregate({ filter: { ...curFilter, category: [c] }, groupBy: 'region', size: 500 })) {
      const r = roll(b.key);
      const row = cellMap.get(r) ?? new Map<string, number>();
      row.set(c, (row.get(c) ?? 0) + b.count);
      cellMap.set(r, row);
    }
  }
  const rowTotal = (r: string) => [...cellMap.get(r)!.values()].reduce((a, b) => a + b, 0);
  const regions = [...cellMap.keys()].sort((a, b) => rowTotal(b) - rowTotal(a) || a.localeCompare(b));

  const interval = opts.window === '24h' ? 'hour' : 'day';
  const step = interval === 'hour' ? 3600_000 : 86_400_000;
  const times: string[] = [];
  for (let t = floorTo(cur.from.getTime(), step); t < cur.to.getTime(); t += step) times.push(new Date(t).toISOString());
  const idx = new Map(times.map((t, i) => [t, i]));
  const seriesMap = new Map<string, number[]>();
  for (const b of await store.aggregate({ filter: curFilter, groupBy: 'category', interval, size: 8 })) {
    const arr = seriesMap.get(b.key) ?? new Array<number>(times.length).fill(0);
    const i = idx.get(new Date(b.time!).toISOString());
    if (i !== undefined) arr[i]! += b.count;
    seriesMap.set(b.key, arr);
  }

  return {
    window: opts.window,
    from: cur.from.toISOString(),
    to: cur.to.toISOString(),
    total: kinds.reduce((a, b) => a + b.count, 0),
    rising: { terms: cut(terms), categories: cut(categories), businesses: cut(businesses) },
    newTerms: [...newT.map((k) => ({ ...k, field: 'term' as const })), ...newB.map((k) => ({ ...k, field: 'business' as const }))].slice(0, top * 2),
    byRegionCategory: { regions, categories: topCats, cells: regions.map((r) => topCats.map((c) => cellMap.get(r)!.get(c) ?? 0)) },
    series: { interval, times, series: [...seriesMap].map(([key, data]) => ({ key, data })) },
    signals: opts.rules?.length ? await evaluateTrendRules(store, opts.rules, opts.now, opts.region) : [],
  };
}
