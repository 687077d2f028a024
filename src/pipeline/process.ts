import type { RawItem, ScoredItem } from '../core/types.ts';
import { normaliseItemText } from '../text/normalise.ts';
import { simhash } from '../text/simhash.ts';
import { joinTokens } from '../text/tokens.ts';
import { join } from 'node:path';
import type { Segmenter } from '../text/segmenter.ts';
import { createRegionResolver, type RegionResolver } from '../text/regions.ts';
import { createSegmenter, type SegmenterBackend } from '../text/segment.ts';
import type { RuleEngine, ScoreResult } from '../scoring/engine.ts';

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
export type BatchProcessor = (raws: readonly RawItem[]) => ScoredItem[];

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

/**
 * The raw item's fields, which the scored item copies one by one: spreading `{ ...raw }` cost
 * about 11 µs per item here, as much as finding an item's regions. A RawItem field added later
 * and not copied below fails to compile here.
 */
const COPIED_RAW_FIELDS = ['id', 'sourceId', 'kind', 'title', 'body', 'url', 'publishedAt', 'fetchedAt', 'regionHint', 'fields'] as const;
type Uncopied = Exclude<keyof RawItem, (typeof COPIED_RAW_FIELDS)[number]>;
export const RAW_FIELDS_COPIED: [Uncopied] extends [never] ? readonly (keyof RawItem)[] : never = COPIED_RAW_FIELDS;

/**
 * The process stage for a batch: normalise, segment, score, regions, SimHash, each step over the
 * whole batch before the next. Item by item, each step evicted the others' tables from the CPU
 * caches (the jieba dictionary, the IDF table, the automaton): the segmenter alone ran about 35%
 * slower inside the stage than on its own. Pure given its deps; a rules reload takes effect
 * between two batches.
 */
export function createBatchProcessor(deps: ProcessDeps): BatchProcessor {
  const now = deps.now ?? (() => new Date());
  return (raws) => {
    const n = raws.length;
    const engine = deps.engine();
    const texts = new Array<string>(n);
    for (let i = 0; i < n; i++) texts[i] = normaliseItemText(raws[i]!.title, raws[i]!.body);
    // Joined at once, so the batch holds one string per item rather than hundreds until it is published.
    const tokens = new Array<string>(n);
    for (let i = 0; i < n; i++) tokens[i] = joinTokens(deps.segmenter.cut(texts[i]!));
    const scores = new Array<ScoreResult>(n);
    for (let i = 0; i < n; i++) {
      const raw = raws[i]!;
      const at = new Date(raw.publishedAt);
      scores[i] = engine.score(
        {
          text: texts[i]!,
          title: raw.title,
          kind: raw.kind,
          sourceId: raw.sourceId,
          sourceWeight: (deps.sourceWeight?.(raw.sourceId) ?? 1) * requestWeight(raw),
          at: Number.isNaN(at.getTime()) ? now() : at,
        },
        { detail: 'compact' },
      );
    }
    const regions = new Array<string[]>(n);
    for (let i = 0; i < n; i++) regions[i] = withDefault(deps.regions.extract(texts[i]!, raws[i]!.regionHint), deps.sourceRegion?.(raws[i]!.sourceId));
    const hashes = new Array<string>(n);
    for (let i = 0; i < n; i++) hashes[i] = simhash(tokens[i]!);
    const processedAt = now().toISOString();
    const out = new Array<ScoredItem>(n);
    for (let i = 0; i < n; i++) {
      const raw = raws[i]!;
      const s = scores[i]!;
      out[i] = {
        id: raw.id,
        sourceId: raw.sourceId,
        kind: raw.kind,
        title: raw.title,
        body: raw.body,
        url: raw.url,
        publishedAt: raw.publishedAt,
        fetchedAt: raw.fetchedAt,
        regionHint: raw.regionHint,
        fields: raw.fields,
        text: texts[i]!,
        tokens: tokens[i]!,
        simhash: hashes[i]!,
        regions: regions[i]!,
        category: s.category,
        score: s.score,
        level: s.level,
        risk: s.risk,
        hits: s.hits,
        explanation: s.explanation,
        processedAt,
      };
    }
    return out;
  };
}

/** A batch processor used one item at a time (a batch of one): the CLI, paste-and-score, tests. */
export function oneAtATime(batch: BatchProcessor): Processor {
  return (raw) => batch([raw])[0]!;
}

/** The process stage for one item. */
export function createProcessor(deps: ProcessDeps): Processor {
  return oneAtATime(createBatchProcessor(deps));
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

/** The batch processor a pipeline's settings describe; pass `segmenter` to share one already loaded. */
export function settingsBatchProcessor(engine: () => RuleEngine, s: ProcessSettings, segmenter?: Segmenter): BatchProcessor {
  const weights = new Map(s.weights);
  const sourceRegions = new Map(s.sourceRegions);
  return createBatchProcessor({
    engine,
    segmenter: segmenter ?? settingsSegmenter(s, engine().terms),
    regions: createRegionResolver({ province: s.province }),
    sourceWeight: (id) => weights.get(id) ?? 1,
    sourceRegion: (id) => sourceRegions.get(id),
  });
}
