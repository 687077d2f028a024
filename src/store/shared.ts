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
 * An alert seen again (a replay, or a new report of the same incident) refreshes what
 * detection knows and keeps what people did: status, assignee, close reason, history, version.
 * Only new entries written by detection itself are added to the history.
 */
export function mergeDetection(existing: Alert, incoming: Alert): Alert {
  const union = <T>(a: readonly T[], b: readonly T[]) => [...new Set([...a, ...b])];
  // The strongest report names the incident, whatever order the reports arrived in.
  // Ties go to the earlier report, then to a fixed order of the names, never to arrival order.
  const tie = incoming.firstSeenAt.localeCompare(existing.firstSeenAt) || `${incoming.category}${incoming.title}`.localeCompare(`${existing.category}${existing.title}`);
  const lead = incoming.score > existing.score || (incoming.score === existing.score && tie < 0) ? incoming : existing;
  return {
    ...incoming,
    category: lead.category,
    title: lead.title,
    summary: lead.summary,
    region: lead.region,
    level: maxLevel(existing.level, incoming.level) ?? incoming.level,
    score: Math.max(existing.score, incoming.score),
    itemIds: union(existing.itemIds, incoming.itemIds),
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
