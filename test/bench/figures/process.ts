import { join } from 'node:path';
import type { RawItem } from '../../../src/core/types.ts';
import { loadRuleEngine } from '../../../src/scoring/engine.ts';
import { createSegmenter, type SegmenterBackend } from '../../../src/text/segment.ts';
import { createRegionResolver } from '../../../src/text/regions.ts';
import { normaliseItemText } from '../../../src/text/normalise.ts';
import { simhash } from '../../../src/text/simhash.ts';
import { joinTokens } from '../../../src/text/tokens.ts';
import { createBatchProcessor, createProcessor } from '../../../src/pipeline/process.ts';
import { corpus } from '../corpus.ts';
import { type BenchContext, type Figures, RULES_DIR, now, round, timeLoop } from '../common.ts';

/** The runner hands the process stage batches of this many records (the bus batch). */
const STAGE_BATCH = 200;

/**
 * Figure 2: the whole process stage (createBatchProcessor: normalise, segment, regions, score with
 * the full rules/, SimHash) per backend, exactly as the runner and its workers run it, in the bus's
 * batches of 200. Also the same work one item at a time (process_items_per_s_one_by_one), and split
 * into its steps, timed one step at a time over the same corpus, so a missed goal names its cause.
 */
export async function processFigure(ctx: BenchContext): Promise<Figures> {
  const items = corpus(ctx.items, { seed: ctx.seed });
  const out: Figures = {};
  const engine = await loadRuleEngine(RULES_DIR);
  out.rules = engine.rules.length;
  out.rule_terms = engine.terms.length;
  const regions = createRegionResolver({ province: '360000' });
  for (const backend of ['node-rs', 'nodejieba'] as SegmenterBackend[]) {
    const segmenter = createSegmenter({ backend, dictDir: join(RULES_DIR, 'dict'), extraWords: engine.terms });
    const deps = { engine: () => engine, segmenter, regions, sourceWeight: () => 1 };
    const batch = createBatchProcessor(deps);
    const batches: (typeof items)[] = [];
    for (let i = 0; i < items.length; i += STAGE_BATCH) batches.push(items.slice(i, i + STAGE_BATCH));
    ctx.log(`process: ${backend} over ${items.length} items`);
    const ms = timeLoop(batches, batch, 1);
    const key = backend === 'node-rs' ? 'node_rs' : 'nodejieba';
    out[`process_items_per_s_${key}`] = round((items.length / ms) * 1000, 0);
    const msOne = timeLoop(items, createProcessor(deps), 200);
    out[`process_items_per_s_one_by_one_${key}`] = round((items.length / msOne) * 1000, 0);
    if (backend === 'node-rs') Object.assign(out, breakdown(items, { engine, segmenter, regions }));
  }
  out.process_items_per_s = out.process_items_per_s_node_rs;
  return out;
}

/** Per-step cost in µs per item, each step timed over the whole corpus on its own. */
function breakdown(
  items: RawItem[],
  d: { engine: Awaited<ReturnType<typeof loadRuleEngine>>; segmenter: ReturnType<typeof createSegmenter>; regions: ReturnType<typeof createRegionResolver> },
): Figures {
  const n = items.length;
  const us = (ms: number) => round((ms * 1000) / n, 0);
  const texts = items.map((it) => normaliseItemText(it.title, it.body));
  const tNorm = timeLoop(items, (it) => normaliseItemText(it.title, it.body), 100);
  // Joined as the stage joins them (and hashes them), so the step costs what it costs there.
  const tokens: string[] = new Array(n);
  let k = 0;
  const tSeg = timeLoop(texts, (t) => (tokens[k++ % n] = joinTokens(d.segmenter.cut(t))), 100);
  const tReg = timeLoop(items.map((it, i) => [texts[i]!, it.regionHint] as const), ([t, h]) => d.regions.extract(t, h), 100);
  const tScore = timeLoop(
    items.map((it, i) => [it, texts[i]!] as const),
    ([it, text]) => d.engine.score({ text, title: it.title, kind: it.kind, sourceId: it.sourceId, sourceWeight: 1, at: new Date(it.publishedAt) }, { detail: 'compact' }),
    100,
  );
  const tSim = timeLoop(tokens, (t) => simhash(t), 100);
  const t0 = now();
  for (const it of items) JSON.stringify(it);
  const tJson = now() - t0;
  return {
    process_step_us_normalise: us(tNorm),
    process_step_us_segment: us(tSeg),
    process_step_us_regions: us(tReg),
    process_step_us_score: us(tScore),
    process_step_us_simhash: us(tSim),
    process_step_us_json_raw_item: us(tJson),
  };
}
