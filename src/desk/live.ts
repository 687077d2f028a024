import type { Alert } from '../core/types.ts';
import type { AlertQuery } from '../core/query.ts';
import type { Store } from '../store/store.ts';

export interface LiveEvent {
  type: 'new' | 'changed';
  alert: Alert;
}

type Listener = (e: LiveEvent) => void;

export interface LiveFeedOptions {
  /** How often the store is polled while someone listens; default 2 s. */
  intervalMs?: number;
  /** How many of the most recently seen alerts each poll compares; default 200. */
  window?: number;
  onError?: (err: unknown) => void;
}

/**
 * Pushes new and changed alerts to the desk pages. Engine-agnostic on purpose: it polls
 * `store.searchAlerts` (newest lastSeenAt first) and emits what has a new version or lastSeenAt
 * since the previous poll, so it works the same over SQLite and Elasticsearch and whichever
 * process wrote the alert. Workflow changes made through this desk are pushed at once by
 * `publish`; those made elsewhere to alerts outside the polled window show on the next reload.
 * The store is polled only while at least one page listens, and the first poll after that is a
 * silent baseline so an opened page is not flooded with old alerts.
 */
export class LiveFeed {
  private readonly listeners = new Set<Listener>();
  private readonly seen = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private baseline: Promise<void> | null = null;
  private readonly intervalMs: number;
  private readonly window: number;

  constructor(
    private readonly store: Store,
    private readonly opts: LiveFeedOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 2000;
    this.window = opts.window ?? 200;
  }

  /** Resolves once the baseline is taken, so the caller can tell its page it is live. */
  async subscribe(fn: Listener): Promise<() => void> {
    this.listeners.add(fn);
    if (!this.timer) {
      this.baseline = this.poll(true);
      this.timer = setInterval(() => void this.poll(false), this.intervalMs);
      this.timer.unref();
    }
    await this.baseline;
    return () => {
      this.listeners.delete(fn);
      if (!this.listeners.size && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
        this.seen.clear();
      }
    };
  }

  /** An alert this desk just changed: tell every page now rather than at the next poll. */
  publish(alert: Alert): void {
    const key = stamp(alert);
    const prev = this.seen.get(alert.id);
    if (prev === key) return;
    if (this.listeners.size) this.seen.set(alert.id, key);
    this.emit({ type: prev === undefined ? 'new' : 'changed', alert });
  }

  get listening(): number {
    return this.listeners.size;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
    this.seen.clear();
  }

  private emit(e: LiveEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }

  private async poll(silent: boolean): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const q = { limit: this.window, offset: 0 } as AlertQuery;
      const page = await this.store.searchAlerts(q);
      for (const a of page.items) {
        const key = stamp(a);
        const prev = this.seen.get(a.id);
        if (prev === key) continue;
        this.seen.set(a.id, key);
        if (!silent) this.emit({ type: prev === undefined ? 'new' : 'changed', alert: a });
      }
      // keep memory bounded: forget what fell far out of the polled window
      if (this.seen.size > this.window * 5) {
        const keep = new Set(page.items.map((a) => a.id));
        for (const id of this.seen.keys()) if (!keep.has(id)) this.seen.delete(id);
      }
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.polling = false;
    }
  }
}

const stamp = (a: Alert) => `${a.version}|${a.lastSeenAt}|${a.level}|${a.status}`;
