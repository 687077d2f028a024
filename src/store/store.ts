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
  searchItems(q: ItemQuery): Promise<Page<ScoredItem>>;
  searchAlerts(q: AlertQuery): Promise<Page<Alert>>;
  transition(id: string, req: TransitionRequest): Promise<Alert>;
  stats(): Promise<Stats>;
  /** Readiness for /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
