import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startPipeline } from '../../../src/pipeline/runner.ts';
import { DEFAULT_COLUMNS, DEFAULT_MASK, HotlineConfig, HotlineSource, rowToItem } from '../../../src/sources/hotline.ts';
import { readLocalFile } from '../../../src/sources/files.ts';
import { decodeBytes } from '../../../src/sources/encoding.ts';
import { parseCsv } from '../../../src/sources/hotline-parse.ts';
import { SourceState } from '../../../src/pipeline/source-state.ts';
import { SqliteLogBus } from '../../../src/bus/sqlite-log.ts';
import { TOPICS } from '../../../src/bus/bus.ts';
import { openDatabase } from '../../../src/store/sqlite-db.ts';
import type { RawItem } from '../../../src/core/types.ts';
import { writeHotlineCsv } from '../corpus.ts';
import { type BenchContext, type Figures, materialisePipeline, now, round, silentLog } from '../common.ts';

/**
 * Figure 7: a 12315 export read by the hotline source (decode, CSV parse, row → RawItem with
 * masking) and handed to the bus through RunningPipeline.ingest (dedupe against source state,
 * one durable bus transaction). The pipeline runs the ingest role only, so nothing else competes.
 */
export async function importFigure(ctx: BenchContext & { importRows?: number }): Promise<Figures> {
  const rows = ctx.importRows ?? (ctx.quick ? 10_000 : 100_000);
  const dir = join(ctx.tmp, 'import');
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, '12315-export.csv');
  ctx.log(`import: writing a ${rows}-row hotline CSV`);
  const { bytes } = writeHotlineCsv(csv, rows, { seed: ctx.seed });
  // A 100,000-row export is ~90 MB; the source's default per-file cap is 50 MB.
  const source = new HotlineSource(
    HotlineConfig.parse({ type: 'hotline', id: 'bench-hotline', path: csv, maxBytes: Math.max(bytes * 2, 50 * 1024 * 1024) }),
  );
  const running = await startPipeline({ pipelineFile: materialisePipeline(dir), roles: ['ingest'], dataDir: join(dir, 'data'), log: silentLog });
  try {
    ctx.log(`import: polling ${rows} rows (${round(bytes / 1_048_576)} MB)`);
    const t = now();
    const items = await source.poll({ signal: AbortSignal.timeout(600_000), now: () => new Date(), baseDir: dir });
    const tPoll = now() - t;
    const { fresh } = await running.ingest(items);
    const ms = now() - t;
    const report = source.lastReport();
    const steps = await importSteps(csv, dir, items);
    return {
      ...steps,
      import_rows: rows,
      import_file_mb: round(statSync(csv).size / 1_048_576),
      import_items: items.length,
      import_fresh: fresh,
      import_row_errors: report?.errors.length ?? null,
      import_poll_ms: round(tPoll, 0),
      import_ingest_ms: round(ms - tPoll, 0),
      import_rows_per_s: round((rows / ms) * 1000, 0),
    };
  } finally {
    await running.stop();
  }
}

/**
 * The same work again, one step at a time with the functions the source and the runner call,
 * so a missed goal names its cause: read, decode, CSV parse, row → item, then (on a fresh
 * database) the dedupe lookup, the bus append and marking the items seen.
 */
async function importSteps(csv: string, dir: string, items: RawItem[]): Promise<Record<string, number | null>> {
  const t = [now()];
  const bytes = await readLocalFile(csv, 1 << 30);
  t.push(now());
  const { text } = decodeBytes(bytes);
  t.push(now());
  const parsed = await parseCsv(text);
  t.push(now());
  const mapping = Object.fromEntries(Object.entries(DEFAULT_COLUMNS).map(([k, v]) => [k, v])) as Parameters<typeof rowToItem>[1]['mapping'];
  const rc = { sourceId: 'bench-hotline', kind: 'complaint' as const, fetchedAt: new Date().toISOString(), mapping, mask: new Set(DEFAULT_MASK) };
  for (const row of parsed.rows) rowToItem(row, rc);
  t.push(now());
  const db = openDatabase(join(dir, 'steps.db'));
  try {
    const state = new SourceState(db);
    const bus = new SqliteLogBus(db, { ownsDb: false });
    t.push(now());
    const { fresh } = state.fresh(items);
    t.push(now());
    await bus.publish(TOPICS.raw, fresh.map((it) => ({ key: it.id, value: it })));
    t.push(now());
    state.markSeen(fresh);
    t.push(now());
    await bus.close();
  } finally {
    db.close();
  }
  const d = (i: number) => round(t[i + 1]! - t[i]!, 0);
  return {
    import_step_ms_read: d(0),
    import_step_ms_decode: d(1),
    import_step_ms_csv_parse: d(2),
    import_step_ms_row_to_item: d(3),
    import_step_ms_dedupe_lookup: d(5),
    import_step_ms_bus_publish: d(6),
    import_step_ms_mark_seen: d(7),
  };
}
