import type { estypes } from '@elastic/elasticsearch';
import type { Alert, ScoredItem } from '../../core/types.ts';
import { levelRank } from '../../core/types.ts';
import type { AlertQuery, ItemQuery } from '../../core/query.ts';
import type { AggField, AggregateQuery } from '../store.ts';
import { businessOf, regionFilterPrefix, regionPrefixes, termsOf } from '../shared.ts';
import { asJoinedTokens } from '../../text/tokens.ts';

export type Tokenize = (text: string) => string[];

/** What goes into the items index besides the document itself: the fields filters and search need. */
export function itemSource(it: ScoredItem) {
  return {
    id: it.id,
    source_id: it.sourceId,
    kind: it.kind,
    category: it.category,
    level: it.level,
    level_rank: it.level ? levelRank(it.level) : null,
    risk: it.risk,
    score: it.score,
    region_prefixes: regionPrefixes(it.regions),
    // the aggregation keys (Store.aggregate): most specific region, terms that fired, the complained-about business
    region: it.regions[0] ?? null,
    terms: termsOf(it),
    business: businessOf(it),
    published_at: new Date(it.publishedAt).toISOString(),
    tokens: asJoinedTokens(it.tokens),
    title: it.title,
    text: it.text,
    doc: it,
  };
}
export type ItemSource = ReturnType<typeof itemSource>;

/** Alerts are searched over the same segmentation of title, summary and terms as the embedded store. */
export function alertSource(a: Alert, tokenize: Tokenize) {
  return {
    id: a.id,
    level: a.level,
    level_rank: levelRank(a.level),
    category: a.category,
    status: a.status,
    region_prefixes: regionPrefixes(a.regions),
    first_seen_at: new Date(a.firstSeenAt).toISOString(),
    last_seen_at: new Date(a.lastSeenAt).toISOString(),
    version: a.version,
    score: a.score,
    merged_into: a.mergedInto ?? null,
    tokens: tokenize(`${a.title}\n${a.summary}\n${a.terms.join(' ')}`).join(' '),
    title: a.title,
    summary: a.summary,
    doc: a,
  };
}
export type AlertSource = ReturnType<typeof alertSource>;

/**
 * The query's tokens, cleaned the way the embedded store's FTS query cleans them (quotes dropped,
 * blanks dropped, duplicates once). A `match` query never parses operators, so user text is inert.
 */
export function queryTokens(q: string, tokenize: Tokenize): string[] {
  return [...new Set(tokenize(q).map((t) => t.replace(/"/g, '').trim()).filter(Boolean))];
}

function commonFilters(q: Omit<ItemQuery | AlertQuery, 'limit' | 'offset'>, timeField: string, tokenize: Tokenize): estypes.QueryDslQueryContainer[] {
  const f: estypes.QueryDslQueryContainer[] = [];
  if (q.level?.length) f.push({ terms: { level: q.level } });
  if (q.category?.length) f.push({ terms: { category: q.category } });
  if (q.region?.length) f.push({ terms: { region_prefixes: [...new Set(q.region.map(regionFilterPrefix))] } });
  if (q.from || q.to) {
    f.push({ range: { [timeField]: { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lte: q.to } : {}) } } });
  }
  if (q.q) {
    const toks = queryTokens(q.q, tokenize);
    // every token must occur, as FTS5's AND does; a filter because order is by time, not relevance
    if (toks.length) f.push({ match: { tokens: { query: toks.join(' '), operator: 'and' } } });
  }
  return f;
}

export interface SearchBody {
  query: estypes.QueryDslQueryContainer;
  sort: estypes.Sort;
  from: number;
  size: number;
  track_total_hits: true;
  _source: string[];
}

function itemFilters(q: Omit<ItemQuery, 'limit' | 'offset'>, tokenize: Tokenize): estypes.QueryDslQueryContainer[] {
  const filter = commonFilters(q, 'published_at', tokenize);
  if (q.source?.length) filter.push({ terms: { source_id: q.source } });
  if (q.kind?.length) filter.push({ terms: { kind: q.kind } });
  if (q.risk !== undefined) filter.push({ term: { risk: q.risk } });
  return filter;
}

/**
 * Newest first like the embedded store; ties break on id (SQLite breaks them on insertion order,
 * which an upsert-by-id index has no stable equivalent of).
 */
export function itemSearch(q: ItemQuery, tokenize: Tokenize): SearchBody {
  return {
    query: { bool: { filter: itemFilters(q, tokenize) } },
    sort: [{ published_at: { order: 'desc' } }, { id: { order: 'desc' } }],
    from: q.offset,
    size: q.limit,
    track_total_hits: true,
    _source: ['doc'],
  };
}

/** Time filters apply to first_seen_at (when the incident began), order is by last_seen_at, as in SQLite. */
export function alertSearch(q: AlertQuery, tokenize: Tokenize): SearchBody {
  const filter = commonFilters(q, 'first_seen_at', tokenize);
  if (q.status?.length) filter.push({ terms: { status: q.status } });
  return {
    // folded alerts (merged into another incident) leave lists, as in the embedded store
    query: { bool: { filter, must_not: [{ exists: { field: 'merged_into' } }] } },
    sort: [{ last_seen_at: { order: 'desc' } }, { id: { order: 'desc' } }],
    from: q.offset,
    size: q.limit,
    track_total_hits: true,
    _source: ['doc'],
  };
}

/** The indexed field behind each aggregation key (see itemSource). */
export const AGG_FIELD: Record<AggField, string> = {
  category: 'category',
  region: 'region',
  // by rank, so ties order 红 橙 黄 蓝 as in the embedded store, not by character code
  level: 'level_rank',
  source: 'source_id',
  kind: 'kind',
  term: 'terms',
  business: 'business',
};

/**
 * Top `size` keys by count, ties by key (as the embedded store's `ORDER BY n DESC, k`), each
 * optionally split into UTC hour/day buckets; empty time buckets and '' keys are left out, as
 * the embedded store's GROUP BY leaves them out.
 */
export function aggregateSearch(q: AggregateQuery, tokenize: Tokenize) {
  const size = q.size ?? 50;
  return {
    query: { bool: { filter: itemFilters(q.filter, tokenize) } },
    size: 0,
    aggs: {
      keys: {
        terms: {
          field: AGG_FIELD[q.groupBy],
          size,
          shard_size: Math.max(size * 3, 100),
          order: [{ _count: 'desc' as const }, { _key: 'asc' as const }],
          ...(q.groupBy === 'level' ? {} : { exclude: [''] }),
        },
        ...(q.interval
          ? {
              aggs: {
                time: {
                  date_histogram: {
                    field: 'published_at',
                    calendar_interval: q.interval,
                    time_zone: 'UTC',
                    min_doc_count: 1,
                  },
                },
              },
            }
          : {}),
      },
    },
  } satisfies { query: estypes.QueryDslQueryContainer; size: number; aggs: Record<string, estypes.AggregationsAggregationContainer> };
}
