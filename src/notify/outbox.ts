import { createHash } from 'node:crypto';
import type { ChannelCounts, DeadHandler, Delivery, DeliveryHandler, DeliveryState, DigestHandler, Queue, QueueWorker, WorkOptions } from './queue.ts';
import { DeferDelivery, PermanentDeliveryError } from './queue.ts';
import type { Db } from '../store/sqlite-db.ts';
import { releaseDatabase } from '../store/sqlite-db.ts';

/** How long a worker owns a claimed delivery before another worker may take it over. */
const LEASE_MS = 60_000;

/**
 * The embedded queue: an outbox table in the SQLite file. A delivery is claimed with a lease
 * (so two processes on one file never send it twice at once), retried with exponential backoff
 * and jitter, and dead-lettered after the last attempt or a permanent (4xx) failure.
 *
 * Rate limits never drop a delivery: a handler that throws DeferDelivery parks it (`deferred`,
 * attempts not counted) until the channel has room; when the first parked delivery of a channel
 * falls due, every parked delivery of that channel is claimed and sent as one digest (the
 * worker's `digest` handler), and each is marked delivered with the digest's id. A dead letter
 * is flagged until the worker's `onDead` hook has run (`dead_handled`), so a crash between the
 * two never loses the fallback.
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
    // Columns added for digests and dead-letter hooks; older data files get them here. Rows that
    // were dead before count as handled: their fallback was never promised.
    const cols = new Set((db.prepare('PRAGMA table_info(outbox)').all() as { name: string }[]).map((c) => c.name));
    const add: [string, string][] = [
      ['deferred', 'INTEGER NOT NULL DEFAULT 0'],
      ['digest_id', 'TEXT'],
      ['dead_handled', 'INTEGER NOT NULL DEFAULT 1'],
      ['claimed_until', 'INTEGER NOT NULL DEFAULT 0'],
    ];
    for (const [name, type] of add) if (!cols.has(name)) db.exec(`ALTER TABLE outbox ADD COLUMN ${name} ${type}`);
    db.exec(`CREATE INDEX IF NOT EXISTS outbox_channel ON outbox(channel, status)`);
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
      digest: opts.digest,
      onDead: opts.onDead,
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

  async channelCounts(): Promise<Record<string, ChannelCounts>> {
    const rows = this.db.prepare('SELECT channel, status, COUNT(*) AS n FROM outbox GROUP BY channel, status').all() as {
      channel: string;
      status: keyof ChannelCounts;
      n: number;
    }[];
    const out: Record<string, ChannelCounts> = {};
    for (const r of rows) (out[r.channel] ??= { delivered: 0, pending: 0, dead: 0 })[r.status] += r.n;
    return out;
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
  deferred: number;
  digest_id: string | null;
  dead_handled: number;
  claimed_until: number;
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
    ...(r.digest_id ? { digestId: r.digest_id } : {}),
    ...(r.deferred && r.status === 'pending' ? { deferred: true } : {}),
  };
}

const toDelivery = (r: OutboxRow): Delivery => ({ id: r.id, alertId: r.alert_id, channel: r.channel, payload: JSON.parse(r.payload) });

/** A digest's id: the channel and a hash of what it carries, so a retry of the same set keeps it. */
export function digestIdFor(channel: string, deliveryIds: readonly string[]): string {
  const h = createHash('sha256').update([...deliveryIds].sort().join('\n')).digest('hex').slice(0, 16);
  return `digest.${channel}.${h}`;
}

type WorkerOptions = Required<Omit<WorkOptions, 'digest' | 'onDead'>> & { now: () => number; digest?: DigestHandler; onDead?: DeadHandler };

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
  private readonly defer;
  private readonly parked;
  private readonly claimMember;
  private readonly digested;
  private readonly unhandledDead;
  private readonly claimDead;
  private readonly deadHandled;

  constructor(
    private readonly db: Db,
    private readonly handler: DeliveryHandler,
    private readonly o: WorkerOptions,
  ) {
    this.due = db.prepare(
      `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 20`,
    );
    this.claim = db.prepare(
      `UPDATE outbox SET next_attempt_at = ?, claimed_until = ? WHERE id = ? AND status = 'pending' AND next_attempt_at = ?`,
    );
    this.done = db.prepare(`UPDATE outbox SET status = 'delivered', attempts = ?, last_error = NULL, updated_at = ? WHERE id = ?`);
    this.retry = db.prepare(
      `UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?, updated_at = ?, claimed_until = 0 WHERE id = ?`,
    );
    this.dead = db.prepare(
      `UPDATE outbox SET status = 'dead', attempts = ?, last_error = ?, updated_at = ?, dead_handled = ?, claimed_until = 0 WHERE id = ?`,
    );
    this.defer = db.prepare(
      `UPDATE outbox SET deferred = 1, last_error = ?, next_attempt_at = ?, updated_at = ?, claimed_until = 0 WHERE id = ?`,
    );
    // Every delivery parked for a channel and not held by another worker: one digest's worth.
    this.parked = db.prepare(
      `SELECT * FROM outbox WHERE status = 'pending' AND deferred = 1 AND channel = ? AND claimed_until <= ? ORDER BY created_at, id LIMIT 500`,
    );
    this.claimMember = db.prepare(
      `UPDATE outbox SET claimed_until = ?, next_attempt_at = MAX(next_attempt_at, ?) WHERE id = ? AND status = 'pending' AND claimed_until <= ?`,
    );
    this.digested = db.prepare(
      `UPDATE outbox SET status = 'delivered', attempts = ?, last_error = NULL, digest_id = ?, updated_at = ?, claimed_until = 0 WHERE id = ?`,
    );
    this.unhandledDead = db.prepare(`SELECT * FROM outbox WHERE status = 'dead' AND dead_handled = 0 AND claimed_until <= ? LIMIT 20`);
    this.claimDead = db.prepare(`UPDATE outbox SET claimed_until = ? WHERE id = ? AND status = 'dead' AND dead_handled = 0 AND claimed_until <= ?`);
    this.deadHandled = db.prepare(`UPDATE outbox SET dead_handled = 1, claimed_until = 0 WHERE id = ?`);
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
          if (this.claim.run(now + LEASE_MS, now + LEASE_MS, r.id, r.next_attempt_at).changes !== 1) continue;
          worked++;
          if (r.deferred && this.o.digest) await this.attemptDigest(r);
          else await this.attempt(r);
        }
        if (this.o.onDead && this.running) worked += await this.runDeadHooks();
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
    try {
      await this.handler(toDelivery(r), attempt);
      this.done.run(attempt, this.o.now(), r.id);
    } catch (err) {
      await this.failed([r], err);
    }
  }

  /**
   * A parked delivery fell due: claim every delivery parked for its channel and send them as
   * one digest. Alone, it goes out as an ordinary message.
   */
  private async attemptDigest(lead: OutboxRow): Promise<void> {
    const now = this.o.now();
    const members = [lead];
    const claimAll = this.db.transaction(() => {
      for (const r of this.parked.all(lead.channel, now) as OutboxRow[]) {
        if (r.id === lead.id) continue;
        if (this.claimMember.run(now + LEASE_MS, now + LEASE_MS, r.id, now).changes === 1) members.push(r);
      }
    });
    claimAll.immediate();
    if (members.length === 1) return this.attempt(lead);
    const digestId = digestIdFor(lead.channel, members.map((m) => m.id));
    try {
      await this.o.digest!(lead.channel, members.map(toDelivery), digestId);
      const at = this.o.now();
      this.db.transaction(() => {
        for (const m of members) this.digested.run(m.attempts + 1, digestId, at, m.id);
      })();
    } catch (err) {
      await this.failed(members, err);
    }
  }

  /** One failure applied to each delivery it concerns: deferred, retried with backoff, or dead. */
  private async failed(rows: OutboxRow[], err: unknown): Promise<void> {
    const msg = err instanceof Error ? err.message : String(err);
    const now = this.o.now();
    const dead: OutboxRow[] = [];
    this.db.transaction(() => {
      for (const r of rows) {
        const attempt = r.attempts + 1;
        if (err instanceof DeferDelivery) {
          this.defer.run(msg, Math.max(now, err.until.getTime()), now, r.id);
        } else if (err instanceof PermanentDeliveryError || attempt >= this.o.maxAttempts) {
          this.dead.run(attempt, msg, now, this.o.onDead ? 0 : 1, r.id);
          dead.push(r);
        } else {
          const base = this.o.backoffMs * 2 ** (attempt - 1);
          const jitter = base * 0.2 * Math.random();
          this.retry.run(attempt, msg, Math.round(now + Math.min(base + jitter, 3_600_000)), now, r.id);
        }
      }
    })();
    for (const r of dead) await this.deadHook(r, msg);
  }

  private async deadHook(r: OutboxRow, msg: string): Promise<boolean> {
    if (!this.o.onDead) return false;
    try {
      await this.o.onDead(toDelivery(r), msg);
      this.deadHandled.run(r.id);
      return true;
    } catch (err) {
      // left flagged: the next round calls the hook again (the fallback enqueue is idempotent)
      this.lastError = err instanceof Error ? err : new Error(String(err));
      return false;
    }
  }

  /** Dead letters whose hook has not run yet (it failed, or the process stopped in between). */
  private async runDeadHooks(): Promise<number> {
    const now = this.o.now();
    let n = 0;
    for (const r of this.unhandledDead.all(now) as OutboxRow[]) {
      if (this.claimDead.run(now + LEASE_MS, r.id, now).changes !== 1) continue;
      if (await this.deadHook(r, r.last_error ?? 'dead letter')) n++;
    }
    return n;
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
