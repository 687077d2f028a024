import type { Store } from '../store/store.ts';
import type { Queue } from '../notify/queue.ts';
import type { Accounts } from '../auth/accounts.ts';
import type { TrendRule } from '../config/trends.ts';
import type { RuleEngine } from '../scoring/engine.ts';
import type { ItemKind, ScoredItem } from '../core/types.ts';

/** What the desk needs from the rest of the process; kept apart from server.ts so routes can import it without a cycle. */
export interface DeskDeps {
  store: Store;
  /** For deliveries on the alert page. */
  queue?: Queue;
  /** Readiness of each engine: { bus: 'ok', store: 'ok', ... } or an error string per engine. */
  health: () => Promise<Record<string, string>>;
  /** Per-source status rows for GET /api/v1/sources (may be absent). */
  sources?: () => Promise<unknown[]>;
  /**
   * Users, sessions and tokens (src/auth/accounts.ts). Without it every non-public route
   * answers 401: the desk never runs open.
   */
  accounts?: Accounts;
  /** POST /api/v1/rules/reload (admin): reloads the risk rules; throws a ConfigError when the new ones are bad. */
  reloadRules?: () => Promise<{ rules: readonly unknown[] }>;
  /** The trend rules (rules/trends/*.yaml) for GET /api/v1/trends and the briefing. */
  trendRules?: () => readonly TrendRule[];
  /** The push API hands accepted complaint records to the bus here; resolves once they are durably on it. */
  ingestComplaints?: (items: import('../core/types.ts').RawItem[]) => Promise<{ fresh: number; duplicates: number; freshIds: string[] }>;
  /** Push API rate limit per sending system (default 120 requests a minute). */
  pushRate?: { max: number; windowMs: number };
  /** Prometheus exposition for GET /metrics. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The clock for trends, briefings and handover; tests pin it. */
  now?: () => Date;
  /** The live risk-rule engine (a getter: a reload swaps it) for the rules page's list and its `tests:` results. */
  ruleEngine?: () => RuleEngine;
  /** Scores pasted text exactly as the process stage would (normalise, regions, rules) for POST /api/v1/rules/score. */
  scoreText?: (title: string, body: string, kind: ItemKind) => ScoredItem;
  /** SENTINEL_DATA: where `sentinel rules backtest` saves last-backtest.json for GET /api/v1/rules/backtest. */
  dataDir?: string;
}

export interface DeskOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  logger?: boolean;
  /** Mark the cookies `Secure` — set it when the desk is reached over https (directly or through a proxy). */
  secureCookies?: boolean;
  /** How often the live feed polls the store while a page listens; default 2000 ms. */
  liveIntervalMs?: number;
}

/** Push channels and silences, from the runner (src/desk/channels.ts serves them). */
export interface DeskDeps {
  /** Silences (mute a rule or category for a region): GET/POST /api/v1/silences, DELETE /api/v1/silences/:id. */
  silences?: import('../alerts/silences-store.ts').SilenceStore;
  /** Configured channels (no URL, no secret) and a test send now: GET /api/v1/channels, POST /api/v1/channels/:name/test. */
  channels?: {
    list(): import('../notify/channels.ts').ChannelSummary[];
    sendTest(name: string, sentBy: string): Promise<import('../notify/sender.ts').TestOutcome>;
  };
}
