import type { Store } from '../store/store.ts';
import type { Queue } from '../notify/queue.ts';

/** What the desk needs from the rest of the process; kept apart from server.ts so routes can import it without a cycle. */
export interface DeskDeps {
  store: Store;
  /** For deliveries on the alert page. */
  queue?: Queue;
  /** Readiness of each engine: { bus: 'ok', store: 'ok', ... } or an error string per engine. */
  health: () => Promise<Record<string, string>>;
  /** Per-source status rows for GET /api/v1/sources (may be absent). */
  sources?: () => Promise<unknown[]>;
}

export interface DeskOptions {
  /** Default 127.0.0.1: until auth lands the desk trusts whoever reaches it. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  logger?: boolean;
}
