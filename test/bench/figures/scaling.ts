import { join } from 'node:path';
import { offlineProcessor } from '../../../src/cli/toolkit.ts';
import { corpus, corpusChunks } from '../corpus.ts';
import { type BenchContext, type Figures, RULES_DIR, now, round } from '../common.ts';
import { makeRulesVariant } from '../rule-variants.ts';

/**
 * Figure 8: how the process stage's cost grows. (a) with the corpus: the same processor over
 * 10k, 100k and 1M items (quick: 1k, 2.5k, 5k), generated lazily in chunks and timed around the
 * processor calls only, in the runner's batches of 200; (b) with the rule count: 10, 100 and 1,000 rules (shipped rules plus
 * generated recall-list rules) over one fixed corpus, once with only new unique terms (the
 * automaton's cost) and once with generated rules sharing common.yaml's vocabulary (the
 * per-rule evaluation cost when everyday words reach many rules). Linear cost shows as a flat items/s.
 */
export async function scalingFigure(ctx: BenchContext): Promise<Figures> {
  const sizes = ctx.quick ? [1_000, 2_500, 5_000] : [10_000, 100_000, 1_000_000];
  const { processBatch } = await offlineProcessor(RULES_DIR);
  // The stage runs on the bus's batches of 200.
  const inBatches = (p: typeof processBatch, items: ReturnType<typeof corpus>) => {
    for (let i = 0; i < items.length; i += 200) p(items.slice(i, i + 200));
  };
  // warm the JIT on items outside the measured ranges
  inBatches(processBatch, corpus(300, { seed: ctx.seed }, 90_000_000));
  const bySize: number[] = [];
  for (const n of sizes) {
    ctx.log(`scaling: ${n} items`);
    let ms = 0;
    let done = 0;
    for (const items of corpusChunks(n, 5_000, { seed: ctx.seed })) {
      const t = now();
      inBatches(processBatch, items);
      ms += now() - t;
      done += items.length;
      if (done % 100_000 === 0) ctx.log(`scaling: ${done}/${n} items, ${Math.round((done / ms) * 1000)} items/s`);
    }
    bySize.push(round((n / ms) * 1000, 0)!);
  }

  const ruleCounts = [10, 100, 1_000];
  const n = ctx.quick ? 500 : 10_000;
  const items = corpus(n, { seed: ctx.seed });
  const series = async (shared: boolean) => {
    const rate: number[] = [];
    const loadMs: number[] = [];
    const terms: number[] = [];
    for (const count of ruleCounts) {
      const variant = makeRulesVariant(join(ctx.tmp, 'rules', `${count}${shared ? '-shared' : ''}`), count, shared);
      const t0 = now();
      const { processBatch: p, engine } = await offlineProcessor(variant.dir);
      loadMs.push(round(now() - t0, 0)!);
      terms.push(engine.terms.length);
      if (engine.rules.length !== count) throw new Error(`rules variant ${count}: engine loaded ${engine.rules.length} rules`);
      ctx.log(`scaling: ${count} rules (${engine.terms.length} terms${shared ? ', shared vocabulary' : ''}) over ${n} items`);
      inBatches(p, items.slice(0, 200));
      const t = now();
      inBatches(p, items);
      rate.push(round((n / (now() - t)) * 1000, 0)!);
    }
    return { rate, loadMs, terms };
  };
  const unique = await series(false);
  const shared = await series(true);
  const out: Figures = {
    scaling_sizes: sizes,
    scaling_process_items_per_s_by_size: bySize,
    scaling_rule_counts: ruleCounts,
    scaling_rules_corpus_items: n,
    scaling_process_items_per_s_by_rules: unique.rate,
    scaling_rules_terms: unique.terms,
    scaling_rules_load_ms: unique.loadMs,
    scaling_process_items_per_s_by_rules_shared_vocab: shared.rate,
    scaling_rules_shared_vocab_load_ms: shared.loadMs,
  };
  sizes.forEach((s, i) => (out[`process_items_per_s_at_${label(s)}`] = bySize[i]!));
  ruleCounts.forEach((c, i) => (out[`process_items_per_s_with_${c}_rules`] = unique.rate[i]!));
  ruleCounts.forEach((c, i) => (out[`process_items_per_s_with_${c}_rules_shared_vocab`] = shared.rate[i]!));
  return out;
}

const label = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}m` : n >= 1000 ? `${n / 1000}k` : String(n));
