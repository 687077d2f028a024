/*
 * Builds a large store for figure 6 without streaming every item through the pipeline.
 *
 *   node --import tsx test/bench/figures/search-seed.ts --items 1000000 --data /tmp/search-1m [--seed N] [--distinct N] [--alert-items N] [--measure]
 *
 * Figure 5 leaves 1,000,000 items behind only after 1.5–2 hours of processing. Search cost does
 * not depend on how the items got there, only on what is stored: so `distinct` corpus items are
 * scored once with the real processor (rules, segmenter, regions), and the store is filled with
 * copies of them that carry their own id and publication time. Copies keep the originals'
 * tokens, regions, levels and categories, so keyword, level and region selectivity are the
 * corpus's own; times are spread uniformly over the corpus's 30 days as the corpus does. Items are
 * written in the pipeline's batch size through `upsertItems`. The first `alertItems` of them go
 * through the alerts stage itself, so the alerts table (incident merging included) is what the
 * pipeline would raise; after that the stage's in-memory windows, which keep 30 days of events
 * and this corpus spans exactly 30, make every item slower than the last (see the README's memory
 * notes), so the rest are only stored.
 *
 * `--measure` then runs figure 6's query mix over the result. A store built here is accepted by
 * figure 6 via BENCH_SEARCH_DATA=<data dir> (`npm run bench -- --only search`).
 */
import { join } from 'node:path';
import { itemId } from '../../../src/core/ids.ts';
import type { ScoredItem } from '../../../src/core/types.ts';
import type { Store } from '../../../src/store/store.ts';
import type { Queue } from '../../../src/notify/queue.ts';
import { AlertStage } from '../../../src/alerts/stage.ts';
import { offlineProcessor } from '../../../src/cli/toolkit.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { openDatabase } from '../../../src/store/sqlite-db.ts';
import { createSegmenter } from '../../../src/text/segment.ts';
import { dataFile } from '../../../src/pipeline/runner.ts';
import { CORPUS_DAYS, CORPUS_END, corpus, mulberry32 } from '../corpus.ts';
import { RULES_DIR, now, round, silentLog } from '../common.ts';

/** The pipeline's bus batch: the alerts stage sees (and stores) items 200 at a time. */
export const SEED_BATCH = 200;

export interface SeedOptions {
  items: number;
  seed: number;
  /** Corpus items scored for real; the rest are copies of them. */
  distinct: number;
  /** Items that go through the alerts stage (the first ones); the rest are stored directly. */
  alertItems: number;
  log: (msg: string) => void;
}

export interface SeedResult {
  items: number;
  alerts: number;
  seconds: number;
  /** Time inside `upsertItems` per item, over the whole build and over its first 20,000 items (a fresh store, as figure 3 measures). */
  upsert_us_per_item: number | null;
  upsert_us_per_item_first_20k: number | null;
}

export type StoreMaker = (dbFile: string, tokenize: (t: string) => string[]) => Store;

export const sqliteStoreMaker: StoreMaker = (dbFile, tokenize) => new SqliteStore(openDatabase(dbFile), { tokenize });

/** Copy `i` of `t`: its own id and time; everything the search looks at stays the original's. */
function copyOf(t: ScoredItem, i: number, seed: number): ScoredItem {
  const r = mulberry32((seed ^ Math.imul(i, 0x9e3779b1)) >>> 0);
  const at = new Date(CORPUS_END - Math.floor(r() * CORPUS_DAYS * 86_400_000)).toISOString();
  return { ...t, id: itemId('bench-seed', `${seed}-${i}`), publishedAt: at, fetchedAt: at, processedAt: at };
}

export async function seedSearchStore(dataDir: string, opts: SeedOptions, makeStore: StoreMaker = sqliteStoreMaker): Promise<SeedResult> {
  const { process, engine } = await offlineProcessor(RULES_DIR);
  const segmenter = createSegmenter({ backend: 'node-rs', dictDir: join(RULES_DIR, 'dict'), extraWords: engine.terms });
  const distinct = Math.min(opts.distinct, opts.items);
  opts.log(`seed: scoring ${distinct} distinct corpus items`);
  const templates = corpus(distinct, { seed: opts.seed }).map(process);
  const inner = makeStore(dataFile(dataDir), (t) => segmenter.cut(t));
  let upsertMs = 0;
  let upserted = 0;
  let firstMs: number | null = null;
  // The stage writes items through the store; time only that call.
  const store: Store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'upsertItems') {
        return async (items: ScoredItem[]) => {
          const t = now();
          await target.upsertItems(items);
          upsertMs += now() - t;
          upserted += items.length;
          if (firstMs === null && upserted >= 20_000) firstMs = upsertMs;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const queue = { kind: 'none', enqueue: async () => {}, deliveriesFor: async () => [], close: async () => {} } as unknown as Queue;
  const stage = new AlertStage({ store, queue, minLevel: '黄', routes: null, catchAll: [], log: silentLog });
  const started = now();
  try {
    await stage.init();
    for (let at = 0; at < opts.items; at += SEED_BATCH) {
      const batch: ScoredItem[] = [];
      for (let i = at; i < Math.min(opts.items, at + SEED_BATCH); i++) batch.push(i < distinct ? templates[i]! : copyOf(templates[i % distinct]!, i, opts.seed));
      if (at < opts.alertItems) await stage.handle(batch);
      else await store.upsertItems(batch);
      if ((at + SEED_BATCH) % 50_000 === 0) {
        opts.log(`seed: ${at + SEED_BATCH}/${opts.items} items, upsertItems ${Math.round((upsertMs * 1000) / upserted)} µs/item, ${Math.round(((at + SEED_BATCH) / (now() - started)) * 1000)} items/s`);
      }
    }
    const stats = await inner.stats();
    return {
      items: stats.items.total,
      alerts: stats.alerts.total,
      seconds: round((now() - started) / 1000, 0)!,
      upsert_us_per_item: round((upsertMs * 1000) / Math.max(1, upserted), 0),
      upsert_us_per_item_first_20k: firstMs === null ? null : round((firstMs * 1000) / 20_000, 0),
    };
  } finally {
    await inner.close();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dataDir = arg('--data');
  if (!dataDir) throw new Error('usage: search-seed.ts --data DIR [--items N] [--seed N] [--distinct N] [--alert-items N] [--measure]');
  const log = (msg: string) => process.stderr.write(`[seed ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  const seed = Number(arg('--seed') ?? 20261129);
  const result = await seedSearchStore(dataDir, {
    items: Number(arg('--items') ?? 1_000_000),
    seed,
    distinct: Number(arg('--distinct') ?? 4_000),
    alertItems: Number(arg('--alert-items') ?? 100_000),
    log,
  });
  log(`seed: ${JSON.stringify(result)}`);
  const out: Record<string, unknown> = { ...result };
  if (argv.includes('--measure')) {
    const { searchFigure } = await import('./search.ts');
    Object.assign(out, await searchFigure({ quick: false, items: 0, seed, tmp: '', log, searchData: dataDir }));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
