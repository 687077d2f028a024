import type { RawItem, ScoredItem } from '../core/types.ts';
import { normaliseItemText } from '../text/normalise.ts';
import { simhash } from '../text/simhash.ts';
import { join } from 'node:path';
import type { Segmenter } from '../text/segmenter.ts';
import { createRegionResolver, type RegionResolver } from '../text/regions.ts';
import { createSegmenter, type SegmenterBackend } from '../text/segment.ts';
import type { RuleEngine } from '../scoring/engine.ts';

export interface ProcessDeps {
  /** A getter, so a rules reload swaps the engine between two items, never inside one. */
  engine: () => RuleEngine;
  segmenter: Segmenter;
  regions: RegionResolver;
  /** Per-source weight from the pipeline file (a verified channel counts more than a repost). */
  sourceWeight?: (sourceId: string) => number;
  /** A source's own region (a county government's feed), for items that name no place. */
  sourceRegion?: (sourceId: string) => string | undefined;
  now?: () => Date;
}

export type Processor = (raw: RawItem) => ScoredItem;

const withDefault = (found: string[], fallback: string | undefined) => (found.length || !fallback ? found : [fallback]);

/**
 * A hotline record's own request type changes what it is worth: a 咨询 (a question about
 * licences, rights or prices) asks for information and reports no incident, so it counts half;
 * 投诉 and 举报 count in full.
 */
export const REQUEST_TYPE_WEIGHTS: Readonly<Record<string, number>> = { 咨询: 0.5, 投诉: 1, 举报: 1 };

function requestWeight(raw: RawItem): number {
  const t = raw.fields['诉求类型']?.trim();
  return (t ? REQUEST_TYPE_WEIGHTS[t] : undefined) ?? 1;
}

/** The process stage for one item: normalise, segment, regions, score, SimHash. Pure given its deps. */
export function createProcessor(deps: ProcessDeps): Processor {
  const now = deps.now ?? (() => new Date());
  return (raw) => {
    const text = normaliseItemText(raw.title, raw.body);
    const tokens = deps.segmenter.cut(text);
    const at = new Date(raw.publishedAt);
    const s = deps.engine().score({
      text,
      title: raw.title,
      kind: raw.kind,
      sourceId: raw.sourceId,
      sourceWeight: (deps.sourceWeight?.(raw.sourceId) ?? 1) * requestWeight(raw),
      at: Number.isNaN(at.getTime()) ? now() : at,
    }, { detail: 'compact' });
    return {
      ...raw,
      text,
      tokens,
      simhash: simhash(tokens),
      regions: withDefault(deps.regions.extract(text, raw.regionHint), deps.sourceRegion?.(raw.sourceId)),
      category: s.category,
      score: s.score,
      level: s.level,
      risk: s.risk,
      hits: s.hits,
      explanation: s.explanation,
      processedAt: now().toISOString(),
    };
  };
}

/** What a pipeline file says about processing: the same in the main thread and in every worker. */
export interface ProcessSettings {
  rulesDir: string;
  segmenter: SegmenterBackend;
  province: string;
  /** Source id → weight, and source id → its own region (plain pairs, so they cross to a worker thread). */
  weights: [string, number][];
  sourceRegions: [string, string][];
}

/** A segmenter with rules/dict and every rule term, as the process stage uses it. */
export function settingsSegmenter(s: ProcessSettings, terms: readonly string[]): Segmenter {
  return createSegmenter({ backend: s.segmenter, dictDir: join(s.rulesDir, 'dict'), extraWords: terms });
}

/** The processor a pipeline's settings describe; pass `segmenter` to share one already loaded. */
export function settingsProcessor(engine: () => RuleEngine, s: ProcessSettings, segmenter?: Segmenter): Processor {
  const weights = new Map(s.weights);
  const sourceRegions = new Map(s.sourceRegions);
  return createProcessor({
    engine,
    segmenter: segmenter ?? settingsSegmenter(s, engine().terms),
    regions: createRegionResolver({ province: s.province }),
    sourceWeight: (id) => weights.get(id) ?? 1,
    sourceRegion: (id) => sourceRegions.get(id),
  });
}
