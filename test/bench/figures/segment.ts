import { createRequire } from 'node:module';
import { normaliseItemText } from '../../../src/text/normalise.ts';
import { corpus } from '../corpus.ts';
import { type BenchContext, type Figures, round, timeLoop } from '../common.ts';

const require = createRequire(import.meta.url);

/**
 * Figure 1: the raw segmenter alone — the library call and nothing else (no user dictionary, no
 * token filtering) over already-normalised texts. This is the physical floor of the process
 * stage: reading Chinese costs at least this much.
 */
export async function segmentFigure(ctx: BenchContext): Promise<Figures> {
  const texts = corpus(ctx.items, { seed: ctx.seed }).map((it) => normaliseItemText(it.title, it.body));
  const chars = texts.reduce((n, t) => n + t.length, 0);
  const warm = Math.min(200, texts.length);
  const out: Figures = { segment_corpus_items: texts.length, segment_corpus_avg_chars: round(chars / texts.length, 0) };

  const { Jieba } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
  const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array };
  const jieba = Jieba.withDict(dict);
  ctx.log(`segment: node-rs over ${texts.length} items`);
  const msRs = timeLoop(texts, (t) => jieba.cut(t, true), warm);
  out.segment_items_per_s_node_rs = round((texts.length / msRs) * 1000, 0);
  out.segment_chars_per_s_node_rs = round((chars / msRs) * 1000, 0);

  const nj = require('nodejieba') as { load(o?: object): void; cut(t: string, hmm?: boolean): string[] };
  nj.load();
  ctx.log(`segment: nodejieba over ${texts.length} items`);
  const msNj = timeLoop(texts, (t) => nj.cut(t, true), warm);
  out.segment_items_per_s_nodejieba = round((texts.length / msNj) * 1000, 0);
  out.segment_chars_per_s_nodejieba = round((chars / msNj) * 1000, 0);

  out.segment_items_per_s = out.segment_items_per_s_node_rs;
  return out;
}
