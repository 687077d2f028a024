import type { Alert, AlertAction, Page, ScoredItem } from '../core/types.ts';
import type { AlertQuery, ItemQuery, Stats } from '../core/query.ts';

export interface TransitionRequest {
  action: AlertAction;
  actor: string;
  note?: string;
  /** For `assign`: the office or person. */
  assignee?: string;
  /** For `close`: 核实属实 / 不属实 / 已处置 / 移交. */
  closeReason?: string;
  /** The version the actor saw; a different current version is a ConflictError. */
  expectedVersion?: number;
}

/**
 * One page of search results. `total` counts every match unless `totalCapped` is set: an engine
 * may stop counting a large result, and then at least `total` items match (never fewer than
 * `offset` + the page, so paging until `offset + limit >= total` still reaches every match).
 */
export interface SearchPage<T> extends Page<T> {
  totalCapped?: boolean;
}

/** What to count for trends, the ledger and briefings. */
export const AGG_FIELDS = ['category', 'region', 'level', 'source', 'kind', 'term', 'business'] as const;
export type AggField = (typeof AGG_FIELDS)[number];

export interface AggregateQuery {
  /** Which items count: the item filters (time range on publishedAt, region, category, risk…). */
  filter: Omit<ItemQuery, 'limit' | 'offset'>;
  /**
   * Bucket key: category; region = the item's most specific region code (regions[0]);
   * level; source = sourceId; kind; term = each distinct non-negated rule term that fired on the
   * item; business = fields['被投诉主体'] of complaints.
   */
  groupBy: AggField;
  /** Also split by time: buckets per hour or day (UTC ISO start of the bucket). */
  interval?: 'hour' | 'day';
  /** Most keys returned, by count; default 50. */
  size?: number;
}

export interface AggregateBucket {
  key: string;
  /** Start of the time bucket when `interval` was given. */
  time?: string;
  count: number;
}

/**
 * The store is the only door to indexed items and alerts. Embedded: SQLite + FTS5 over the
 * pre-segmented tokens; distributed: Elasticsearch. Writes are upserts by id, so a replay
 * changes nothing. Alert upserts refresh detection fields (level, items, terms, …) and never
 * touch workflow fields (status, assignee, history, version) of an alert that already exists.
 */
export interface Store {
  readonly kind: string;
  upsertItems(items: ScoredItem[]): Promise<void>;
  upsertAlerts(alerts: Alert[]): Promise<void>;
  getItem(id: string): Promise<ScoredItem | null>;
  getItems(ids: string[]): Promise<ScoredItem[]>;
  getAlert(id: string): Promise<Alert | null>;
  searchItems(q: ItemQuery): Promise<SearchPage<ScoredItem>>;
  searchAlerts(q: AlertQuery): Promise<Page<Alert>>;
  transition(id: string, req: TransitionRequest): Promise<Alert>;
  stats(): Promise<Stats>;
  /** Counts of items per key (and per time bucket) for the `size` most frequent keys; ordered by the key's total count (desc), then key, then time. */
  aggregate(q: AggregateQuery): Promise<AggregateBucket[]>;
  /** Readiness for /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
