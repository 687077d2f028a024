import type { Alert, ScoredItem } from '../core/types.ts';
import { maxLevel } from '../core/types.ts';

/**
 * GB/T 2260 codes nest by prefix: 36 = 江西省, 3601 = 南昌市, 360102 = 东湖区. A region filter
 * on a province or city code matches everything below it, so every stored region is indexed
 * under each of its ancestors' prefixes.
 */
export function regionFilterPrefix(code: string): string {
  const c = code.padEnd(6, '0').slice(0, 6);
  if (c.endsWith('0000')) return c.slice(0, 2);
  if (c.endsWith('00')) return c.slice(0, 4);
  return c;
}

export function regionPrefixes(codes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const code of codes) {
    if (!/^\d{6}$/.test(code)) continue;
    out.add(code.slice(0, 2));
    if (!code.endsWith('0000')) out.add(code.slice(0, 4));
    if (!code.endsWith('00')) out.add(code);
  }
  return [...out];
}

const entryKey = (h: Alert['history'][number]) => `${h.at}\u0000${h.action}\u0000${h.note ?? ''}`;

/**
 * History written by detection itself (merged reports, corroboration, escalation) joins the
 * alert's history; a re-raise of the same alert (a replay) adds nothing.
 */
function detectionEntries(existing: Alert, incoming: Alert): Alert['history'] {
  const known = new Set(existing.history.map(entryKey));
  return incoming.history.filter((h) => h.actor === 'sentinel' && h.action !== 'raise' && !known.has(entryKey(h)));
}

/**
 * An alert keeps at most this many report ids. A large incident (a story reposted by thousands of
 * sites) otherwise made every further report copy, store and reparse its whole list: at 33,000
 * reports one alert's document was 4.5 MB and the pipeline slowed down with every report
 * (bench figure 5). Beyond it the alert keeps its first reports (what started it) and its most
 * recent ones (what a redelivered batch would bring again), and `itemCount` counts them all.
 */
export const MAX_ALERT_ITEM_IDS = 500;
const FIRST_ITEM_IDS = 50;

/** How many reports an alert holds (itemIds alone for alerts written before itemCount). */
export function itemCountOf(alert: Pick<Alert, 'itemIds' | 'itemCount'>): number {
  return alert.itemCount ?? alert.itemIds.length;
}

const union = <T>(a: readonly T[], b: readonly T[]): T[] => [...new Set([...a, ...b])];

/** The merged report ids, kept within MAX_ALERT_ITEM_IDS, and how many reports the alert now holds. */
function mergeItemIds(existing: Alert, incoming: Alert): { itemIds: string[]; itemCount?: number } {
  const known = new Set(existing.itemIds);
  const before = known.size;
  for (const id of incoming.itemIds) known.add(id);
  // Idempotent, as the store applies it again to a newer version of the same alert: that version
  // already counts what it lists. Folding a separate alert in (AlertStage) adds its count itself.
  const itemCount = Math.max(itemCountOf(existing) + known.size - before, itemCountOf(incoming));
  let itemIds = [...known];
  if (itemIds.length > MAX_ALERT_ITEM_IDS) itemIds = [...itemIds.slice(0, FIRST_ITEM_IDS), ...itemIds.slice(itemIds.length - (MAX_ALERT_ITEM_IDS - FIRST_ITEM_IDS))];
  // Alerts within the bound stay as they were written before itemCount existed.
  return itemCount > itemIds.length ? { itemIds, itemCount } : { itemIds };
}

/**
 * An alert seen again (a replay, or a new report of the same incident) refreshes what
 * detection knows and keeps what people did: status, assignee, close reason, history, version.
 * Only new entries written by detection itself are added to the history.
 */
export function mergeDetection(existing: Alert, incoming: Alert): Alert {
  const { itemCount: _incomingCount, ...rest } = incoming;
  // The strongest report names the incident, whatever order the reports arrived in.
  // Ties go to the earlier report, then to a fixed order of the names, never to arrival order.
  const tie = incoming.firstSeenAt.localeCompare(existing.firstSeenAt) || `${incoming.category}${incoming.title}`.localeCompare(`${existing.category}${existing.title}`);
  const lead = incoming.score > existing.score || (incoming.score === existing.score && tie < 0) ? incoming : existing;
  return {
    ...rest,
    category: lead.category,
    title: lead.title,
    summary: lead.summary,
    region: lead.region,
    level: maxLevel(existing.level, incoming.level) ?? incoming.level,
    score: Math.max(existing.score, incoming.score),
    ...mergeItemIds(existing, incoming),
    sources: union(existing.sources, incoming.sources),
    kinds: union(existing.kinds, incoming.kinds),
    terms: union(existing.terms, incoming.terms),
    regions: union(existing.regions, incoming.regions),
    firstSeenAt: existing.firstSeenAt < incoming.firstSeenAt ? existing.firstSeenAt : incoming.firstSeenAt,
    lastSeenAt: existing.lastSeenAt > incoming.lastSeenAt ? existing.lastSeenAt : incoming.lastSeenAt,
    status: existing.status,
    assignee: existing.assignee,
    closeReason: existing.closeReason,
    history: [...existing.history, ...detectionEntries(existing, incoming)],
    // folding is final: a replayed report never brings a folded alert back
    mergedInto: existing.mergedInto ?? incoming.mergedInto,
    version: existing.version,
    createdAt: existing.createdAt,
    updatedAt: existing.updatedAt,
  };
}

/** The business a complaint is about (被投诉主体), as trends and the ledger count it. */
export function businessOf(item: ScoredItem): string | null {
  const name = item.fields['被投诉主体'] ?? item.fields['被投诉主体.名称'];
  return name?.trim() || null;
}

/** Distinct rule terms that fired and were not negated: what term trends count. */
export function termsOf(item: ScoredItem): string[] {
  return [...new Set(item.hits.filter((h) => !h.negated).map((h) => h.term))];
}
