import { join } from 'node:path';
import { startPipeline } from '../../../src/pipeline/runner.ts';
import { corpusChunks } from '../corpus.ts';
import { type BenchContext, type Figures, materialisePipeline, now, round, rssMb, silentLog } from '../common.ts';

export const MEMORY_FIRST_INDEX = 0;

export function memoryItems(ctx: BenchContext & { memoryItems?: number }): number {
  return ctx.memoryItems ?? (ctx.quick ? 5_000 : 1_000_000);
}

export function memoryDataDir(ctx: BenchContext): string {
  return join(ctx.tmp, 'memory', 'data');
}

/**
 * Figure 5: memory while streaming the corpus through the embedded pipeline (process + alerts,
 * store with full-text index) in chunks, generated lazily so the harness holds one chunk at a
 * time. RSS is sampled every 100 ms and after every chunk; the figure reports the peak and RSS at
 * 10%, 50% and 100% of the stream (100k / 500k / 1M on the full run). The store it leaves behind
 * is what figure 6 searches.
 */
export async function memoryFigure(ctx: BenchContext & { memoryItems?: number }): Promise<Figures> {
  const total = memoryItems(ctx);
  const chunk = ctx.quick ? 500 : 2_000;
  const dir = join(ctx.tmp, 'memory');
  const pipelineFile = materialisePipeline(dir);
  const baseline = rssMb();
  const running = await startPipeline({ pipelineFile, roles: ['process', 'alerts'], dataDir: memoryDataDir(ctx), log: silentLog });
  let peak = rssMb();
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 100);
  const marks = ctx.quick ? [0.25, 0.5, 1] : [0.1, 0.5, 1];
  const at: Figures = {};
  const series: number[] = [];
  // The main thread's V8 heap beside RSS: which part of a rise is JavaScript objects (heap used),
  // room V8 keeps for them (heap total), and memory outside V8 (SQLite, jieba, the worker, malloc).
  const heapUsed: number[] = [];
  const heapTotal: number[] = [];
  try {
    ctx.log(`memory: streaming ${total} items in chunks of ${chunk}`);
    const t = now();
    let done = 0;
    let nextMark = 0;
    for (const items of corpusChunks(total, chunk, { seed: ctx.seed }, MEMORY_FIRST_INDEX)) {
      await running.ingest(items);
      await running.drained();
      done += items.length;
      const rss = rssMb();
      peak = Math.max(peak, rss);
      if (done % Math.max(chunk, Math.floor(total / 20 / chunk) * chunk) === 0 || done === total) {
        const heap = process.memoryUsage();
        series.push(round(rss, 0)!);
        heapUsed.push(round(heap.heapUsed / 1_048_576, 0)!);
        heapTotal.push(round(heap.heapTotal / 1_048_576, 0)!);
      }
      while (nextMark < marks.length && done >= Math.round(marks[nextMark]! * total)) {
        const label = ctx.quick ? `${Math.round(marks[nextMark]! * 100)}pct` : `${Math.round((marks[nextMark]! * total) / 1000)}k`;
        at[`rss_at_${label}_mb`] = round(rss, 0);
        nextMark++;
      }
      if (done % (chunk * 25) === 0) ctx.log(`memory: ${done}/${total} items, rss ${Math.round(rss)} MB, ${Math.round((done / (now() - t)) * 1000)} items/s`);
    }
    const ms = now() - t;
    const stats = await running.store.stats();
    return {
      memory_items: total,
      peak_rss_mb: round(peak, 0),
      baseline_rss_mb: round(baseline, 0),
      ...at,
      rss_series_mb: series,
      heap_used_series_mb: heapUsed,
      heap_total_series_mb: heapTotal,
      heap_used_mb_end: round(process.memoryUsage().heapUsed / 1_048_576, 0),
      memory_e2e_items_per_s: round((total / ms) * 1000, 0),
      memory_items_stored: stats.items.total,
      memory_alerts_stored: stats.alerts.total,
    };
  } finally {
    clearInterval(sampler);
    await running.stop();
  }
}
