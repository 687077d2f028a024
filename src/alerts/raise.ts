import type { Alert, Level, ScoredItem } from '../core/types.ts';
import { atLeast } from '../core/types.ts';
import { contentHash } from '../core/ids.ts';

/** How much of an item's body an alert carries as its summary. */
const SUMMARY_CHARS = 160;

/**
 * The alert a scored item raises, or null when it stays below `minLevel`. Its id is a hash of
 * the item's normalised text, so the same story arriving twice (a replay, or a second feed
 * carrying the identical text) lands on one alert; merging near-duplicates and reports of one
 * incident across sources is the incidents stage's work.
 */
export function alertFor(item: ScoredItem, minLevel: Level, now = new Date()): Alert | null {
  if (!item.risk || !item.level || !item.category || !atLeast(item.level, minLevel)) return null;
  const at = now.toISOString();
  const seen = new Date(item.publishedAt).toISOString();
  const body = item.text.slice(item.text.indexOf('\n') + 1).trim();
  const matched = new Set(item.explanation.filter((e) => e.matched).map((e) => e.rule));
  const terms = [...new Set(item.hits.filter((h) => !h.negated && matched.has(h.rule)).map((h) => h.term))];
  return {
    id: 'a' + contentHash(item.text.replace(/\s+/g, '')).slice(0, 23),
    level: item.level,
    category: item.category,
    region: item.regions[0] ?? '',
    regions: item.regions,
    title: item.title || body.slice(0, 40),
    summary: body.length > SUMMARY_CHARS ? body.slice(0, SUMMARY_CHARS) + '…' : body,
    score: item.score,
    itemIds: [item.id],
    sources: [item.sourceId],
    kinds: [item.kind],
    terms,
    status: 'new',
    firstSeenAt: seen,
    lastSeenAt: seen,
    createdAt: at,
    updatedAt: at,
    history: [{ at, action: 'raise', actor: 'sentinel', note: `${item.level}色预警：${item.category}` }],
    version: 1,
  };
}
