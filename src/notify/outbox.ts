import type { Delivery, DeliveryHandler, DeliveryState, Queue, QueueWorker, WorkOptions } from './queue.ts';
import { PermanentDeliveryError } from './queue.ts';
import type { Db } from '../store/sqlite-db.ts';
import { releaseDatabase } from '../store/sqlite-db.ts';

/** How long a worker owns a claimed delivery before another worker may take it over. */
const LEASE_MS = 60_000;

/**
 * The embedded queue: an outbox table in the SQLite file. A delivery is claimed with a lease
 * (so two processes on one file never send it twice at once), retried with exponential backoff
 * and jitter, and dead-lettered after the last attempt or a permanent (4xx) failure.
 */
export class OutboxQueue implements Queue {
  readonly kind = 'sqlite';
  private readonly workers = new Set<OutboxWorker>();

  constructor(
    private readonly db: Db,
    private readonly opts: { ownsDb?: boolean; now?: () => number } = {},
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        id              TEXT PRIMARY KEY,
        alert_id        TEXT NOT NULL,
        channel         TEXT NOT NULL,
        payload         TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'pending',
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        next_attempt_at INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_attempt_at);
      CREATE INDEX IF NOT EXISTS outbox_alert ON outbox(alert_id);
    `);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async enqueue(deliveries: Delivery[]): Promise<void> {
    if (!deliveries.length) return;
    const ins = this.db.prepare(
      `INSERT OR IGNORE INTO outbox (id, alert_id, channel, payload, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = this.now();
    this.db.transaction(() => {
      for (const d of deliveries) ins.run(d.id, d.alertId, d.channel, JSON.stringify(d.payload), now, now, now);
    })();
    for (const w of this.workers) w.poke();
  }

  work(handler: DeliveryHandler, opts: WorkOptions = {}): QueueWorker {
    const w = new OutboxWorker(this.db, handler, {
      maxAttempts: opts.maxAttempts ?? 8,
      backoffMs: opts.backoffMs ?? 2_000,
      pollMs: opts.pollMs ?? 1_000,
      now: () => this.now(),
    });
    this.workers.add(w);
    w.start();
    return {
      stop: async () => {
        await w.stop();
        this.workers.delete(w);
      },
      drained: () => w.drained(),
    };
  }

  async deliveriesFor(alertId: string): Promise<DeliveryState[]> {
    const rows = this.db
      .prepare('SELECT * FROM outbox WHERE alert_id = ? ORDER BY created_at, id')
      .all(alertId) as OutboxRow[];
    return rows.map(toState);
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
    this.workers.clear();
    if (this.opts.ownsDb ?? true) releaseDatabase(this.db);
  }
}

interface OutboxRow {
  id: string;
  alert_id: string;
  channel: string;
  payload: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  updated_at: number;
}

function toState(r: OutboxRow): DeliveryState {
  return {
    id: r.id,
    alertId: r.alert_id,
    channel: r.channel,
    payload: JSON.parse(r.payload),
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    nextAttemptAt: new Date(r.next_attempt_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

class OutboxWorker {
  lastError: Error | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private waiters: (() => void)[] = [];
  private readonly due;
  private readonly claim;
  private readonly done;
  private readonly retry;
  private readonly dead;

  constructor(
    db: Db,
    private readonly handler: DeliveryHandler,
    private readonly o: Required<Omit<WorkOptions, never>> & { now: () => number },
  ) {
    this.due = db.prepare(
      `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 20`,
    );
    this.claim = db.prepare(`UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at = ?`);
    this.done = db.prepare(`UPDATE outbox SET status = 'delivered', attempts = ?, last_error = NULL, updated_at = ? WHERE id = ?`);
    this.retry = db.prepare(`UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?`);
    this.dead = db.prepare(`UPDATE outbox SET status = 'dead', attempts = ?, last_error = ?, updated_at = ? WHERE id = ?`);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  poke(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = 0;
      try {
        const now = this.o.now();
        const rows = this.due.all(now) as OutboxRow[];
        for (const r of rows) {
          if (!this.running) break;
          if (this.claim.run(now + LEASE_MS, r.id, r.next_attempt_at).changes !== 1) continue;
          worked++;
          await this.attempt(r);
        }
        this.lastError = null;
      } catch (err) {
        // The file is locked or full: nothing was lost (a claimed delivery's lease runs out and
        // it is retried); wait and try again rather than let the process die.
        this.lastError = err instanceof Error ? err : new Error(String(err));
        worked = 0;
      }
      if (!worked) {
        this.waiters.splice(0).forEach((w) => w());
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.wakeUp = null;
            resolve();
          }, this.o.pollMs);
          this.wakeUp = () => {
            clearTimeout(t);
            this.wakeUp = null;
            resolve();
          };
        });
      }
    }
  }

  private async attempt(r: OutboxRow): Promise<void> {
    const attempt = r.attempts + 1;
    const d: Delivery = { id: r.id, alertId: r.alert_id, channel: r.channel, payload: JSON.parse(r.payload) };
    try {
      await this.handler(d, attempt);
      this.done.run(attempt, this.o.now(), r.id);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const now = this.o.now();
      if (err instanceof PermanentDeliveryError || attempt >= this.o.maxAttempts) {
        this.dead.run(attempt, msg, now, r.id);
      } else {
        const base = this.o.backoffMs * 2 ** (attempt - 1);
        const jitter = base * 0.2 * Math.random();
        this.retry.run(attempt, msg, Math.round(now + Math.min(base + jitter, 3_600_000)), now, r.id);
      }
    }
  }

  drained(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.poke();
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.poke();
    await this.loop;
    this.waiters.splice(0).forEach((w) => w());
  }
}
