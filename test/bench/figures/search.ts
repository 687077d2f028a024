import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataFile, startPipeline } from '../../../src/pipeline/runner.ts';
import { loadRuleEngine } from '../../../src/scoring/engine.ts';
import { createSegmenter } from '../../../src/text/segment.ts';
import { createStore } from '../../../src/store/factory.ts';
import type { Store } from '../../../src/store/store.ts';
import { AlertQuery, ItemQuery } from '../../../src/core/query.ts';
import { LEVELS } from '../../../src/core/types.ts';
import { CORPUS_END, corpusChunks, mulberry32 } from '../corpus.ts';
import { type BenchContext, type Figures, RULES_DIR, materialisePipeline, now, round, silentLog, summary } from '../common.ts';
import { memoryDataDir } from './memory.ts';

const KEYWORDS = ['食物中毒', '呕吐', '腹泻', '过期', '发霉', '老鼠', '无证经营', '假酒', '冷冻', '检疫', '农药残留', '不合格', '黑作坊', '保健品', '奶粉', '蟑螂', '学生 呕吐', '外卖 虫子', '米粉', '超市 过期'];
const REGIONS = ['360000', '360100', '360700', '360731', '361100', '361130', '360102', '360900', '360400'];
const RANGES_DAYS = [1, 3, 7, 30];

/**
 * Figure 6: what the duty desk asks the store, over the items figure 5 stored (or, when run
 * alone, a store built here from a smaller stream). Each query is a Chinese keyword plus level,
 * region and time range, parsed through the API's query schemas, alternating item and alert
 * searches; one page (50) as the desk asks for it, with its total count.
 *
 * A store built by search-seed.ts (1,000,000 items in minutes instead of hours) is searched
 * instead when `searchData` or BENCH_SEARCH_DATA names its data folder.
 */
export async function searchFigure(ctx: BenchContext & { searchQueries?: number; searchData?: string }): Promise<Figures> {
  let dataDir = ctx.searchData ?? process.env.BENCH_SEARCH_DATA ?? memoryDataDir(ctx);
  if ((ctx.searchData ?? process.env.BENCH_SEARCH_DATA) && !existsSync(dataFile(dataDir))) throw new Error(`search: no store at ${dataFile(dataDir)}`);
  if (!existsSync(dataFile(dataDir))) {
    dataDir = join(ctx.tmp, 'search', 'data');
    const n = ctx.quick ? 5_000 : 20_000;
    ctx.log(`search: no store from the memory figure; storing ${n} items first`);
    const running = await startPipeline({ pipelineFile: materialisePipeline(join(ctx.tmp, 'search')), roles: ['process', 'alerts'], dataDir, log: silentLog });
    for (const items of corpusChunks(n, 2_000, { seed: ctx.seed })) await running.ingest(items);
    await running.drained();
    await running.stop();
  }
  const engine = await loadRuleEngine(RULES_DIR);
  const segmenter = createSegmenter({ backend: 'node-rs', dictDir: join(RULES_DIR, 'dict'), extraWords: engine.terms });
  const store = await createStore(undefined, dataFile(dataDir), (t) => segmenter.cut(t));
  try {
    return await timeDeskQueries(store, ctx);
  } finally {
    await store.close();
  }
}

/** Figure 6's query mix over `store`: keyword + level + region + time range, items and alerts alternating. */
export async function timeDeskQueries(store: Store, ctx: Pick<BenchContext, 'seed' | 'quick' | 'log'> & { searchQueries?: number }): Promise<Figures> {
  const stats = await store.stats();
  const r = mulberry32(ctx.seed ^ 0xdeadbeef);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const count = ctx.searchQueries ?? (ctx.quick ? 120 : 400);
  const queries = Array.from({ length: count }, (_, i) => {
    const days = pick(RANGES_DAYS);
    const raw = {
      q: pick(KEYWORDS),
      level: r() < 0.5 ? '红,橙' : LEVELS.slice(0, 1 + Math.floor(r() * 3)).join(','),
      region: pick(REGIONS),
      from: new Date(CORPUS_END - days * 86_400_000).toISOString(),
      to: new Date(CORPUS_END).toISOString(),
    };
    return i % 2 === 0 ? ({ kind: 'items', q: ItemQuery.parse(raw) } as const) : ({ kind: 'alerts', q: AlertQuery.parse(raw) } as const);
  });
  let capped = 0;
  const run = async (x: (typeof queries)[number]) => {
    if (x.kind === 'alerts') return (await store.searchAlerts(x.q)).total;
    const page = await store.searchItems(x.q);
    if (page.totalCapped) capped++;
    return page.total;
  };
  for (const x of queries.slice(0, 5)) await run(x); // first-touch of the file's pages
  capped = 0;
  ctx.log(`search: ${queries.length} desk queries over ${stats.items.total} items, ${stats.alerts.total} alerts`);
  const all: number[] = [];
  const byKind = { items: [] as number[], alerts: [] as number[] };
  let hits = 0;
  for (const x of queries) {
    const t = now();
    hits += await run(x);
    const ms = now() - t;
    all.push(ms);
    byKind[x.kind].push(ms);
  }
  const s = summary(all);
  const si = summary(byKind.items);
  const sa = summary(byKind.alerts);
  return {
    search_over_items: stats.items.total,
    search_over_alerts: stats.alerts.total,
    search_queries: queries.length,
    search_mean_total_hits: round(hits / queries.length, 0),
    // item totals reported as a lower bound (the store stopped counting); the mean counts them at that bound
    search_items_capped_totals: capped,
    search_p50_ms: round(s.p50, 2),
    search_p95_ms: round(s.p95, 2),
    search_max_ms: round(s.max, 2),
    search_items_p50_ms: round(si.p50, 2),
    search_items_p95_ms: round(si.p95, 2),
    search_alerts_p50_ms: round(sa.p50, 2),
    search_alerts_p95_ms: round(sa.p95, 2),
  };
}
