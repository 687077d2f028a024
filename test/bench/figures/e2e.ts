import { join } from 'node:path';
import { startPipeline } from '../../../src/pipeline/runner.ts';
import type { RawItem, ScoredItem } from '../../../src/core/types.ts';
import { TOPICS } from '../../../src/bus/bus.ts';
import { SqliteLogBus } from '../../../src/bus/sqlite-log.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { checkpointInBackground, openDatabase, releaseDatabase } from '../../../src/store/sqlite-db.ts';
import { encodeBatch } from '../../../src/pipeline/process-pool.ts';
import { offlineProcessor } from '../../../src/cli/toolkit.ts';
import { alertFor } from '../../../src/alerts/raise.ts';
import { createSegmenter } from '../../../src/text/segment.ts';
import { corpus } from '../corpus.ts';
import { type BenchContext, type Figures, RULES_DIR, materialisePipeline, now, round, silentLog } from '../common.ts';

/**
 * Figure 3: end to end on the embedded engines with durable settings as shipped (WAL,
 * synchronous=FULL): ingest → bus:raw → process → bus:scored → store (items + FTS) → alerts.
 * Timed from the ingest call until every consumer has drained.
 */
export async function e2eFigure(ctx: BenchContext): Promise<Figures> {
  const dir = join(ctx.tmp, 'e2e');
  const pipelineFile = materialisePipeline(dir);
  const items = corpus(ctx.items, { seed: ctx.seed });
  const running = await startPipeline({ pipelineFile, roles: ['process', 'alerts'], dataDir: join(dir, 'data'), log: silentLog });
  try {
    ctx.log(`e2e: ${items.length} items through the embedded pipeline`);
    const t = now();
    const { fresh } = await running.ingest(items);
    const tIngest = now() - t;
    await running.drained();
    const ms = now() - t;
    const stats = await running.store.stats();
    await running.stop();
    const steps = await e2eSteps(join(dir, 'steps.db'), items);
    return {
      ...steps,
      e2e_items_per_s: round((fresh / ms) * 1000, 0),
      e2e_ingest_ms: round(tIngest, 0),
      e2e_items_stored: stats.items.total,
      e2e_alerts: stats.alerts.total,
    };
  } finally {
    await running.stop();
  }
}

/**
 * Where the end-to-end time goes: the runner's steps repeated one at a time, in the runner's
 * batch size (200), on a fresh database with the same durable settings and background
 * checkpoints. µs per item. `process` and `encode_scored` (the scored items serialised to UTF-8
 * JSON) run on the process worker in the pipeline; every other step runs on the main thread.
 */
async function e2eSteps(dbFile: string, items: RawItem[]): Promise<Figures> {
  const { process, engine } = await offlineProcessor(RULES_DIR);
  const db = openDatabase(dbFile);
  checkpointInBackground(db);
  const bus = new SqliteLogBus(db, { ownsDb: false });
  const segmenter = createSegmenter({ dictDir: join(RULES_DIR, 'dict'), extraWords: engine.terms });
  const store = new SqliteStore(db, { tokenize: (t) => segmenter.cut(t), ownsDb: false });
  const batches: RawItem[][] = [];
  for (let i = 0; i < items.length; i += 200) batches.push(items.slice(i, i + 200));
  const t: Record<string, number> = { publish_raw: 0, parse_raw: 0, process: 0, encode_scored: 0, publish_scored: 0, parse_scored: 0, store_items: 0, alerts: 0 };
  let scoredBytes = 0;
  const timed = async (k: string, fn: () => unknown) => {
    const t0 = now();
    await fn();
    t[k]! += now() - t0;
  };
  try {
    for (const batch of batches) {
      await timed('publish_raw', () => bus.publish(TOPICS.raw, batch.map((it) => ({ key: it.id, value: it }))));
      const rawJson = batch.map((it) => JSON.stringify(it));
      let raw: RawItem[] = [];
      await timed('parse_raw', () => (raw = rawJson.map((j) => JSON.parse(j) as RawItem)));
      let scored: ScoredItem[] = [];
      await timed('process', () => (scored = raw.map(process)));
      let encoded = encodeBatch([]);
      await timed('encode_scored', () => (encoded = encodeBatch(scored)));
      let start = 0;
      const records = encoded.ids.map((key, i) => {
        const json = Buffer.from(encoded.bytes, start, encoded.ends[i]! - start);
        start = encoded.ends[i]!;
        return { key, json };
      });
      await timed('publish_scored', () => bus.publishEncoded(TOPICS.scored, records));
      const scoredJson = records.map((r) => r.json.toString('utf8'));
      scoredBytes += encoded.bytes.byteLength;
      let back: ScoredItem[] = [];
      await timed('parse_scored', () => (back = scoredJson.map((j) => JSON.parse(j) as ScoredItem)));
      await timed('store_items', () => store.upsertItems(back));
      await timed('alerts', () => store.upsertAlerts(back.flatMap((it) => alertFor(it, '黄') ?? [])));
    }
  } finally {
    await bus.close();
    await store.close();
    releaseDatabase(db);
  }
  const out: Figures = { e2e_scored_item_json_bytes: round(scoredBytes / items.length, 0) };
  for (const [k, ms] of Object.entries(t)) out[`e2e_step_us_${k}`] = round((ms * 1000) / items.length, 0);
  return out;
}
