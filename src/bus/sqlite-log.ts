import { EventEmitter } from 'node:events';
import type { Bus, BusRecord, BatchContext, BatchHandler, ConsumeOptions, Consumer, DeliveredRecord, EncodedRecord } from './bus.ts';
import { withUnit } from './sqlite-unit.ts';
import type { Db } from '../store/sqlite-db.ts';
import { releaseDatabase } from '../store/sqlite-db.ts';

/**
 * The embedded bus: an append-only log table with one committed position per (topic, group).
 * Consumers in this process are woken at once on publish; a publisher in another process
 * (`sentinel ingest` while `sentinel run` works) is picked up by the poll.
 */
export class SqliteLogBus implements Bus {
  readonly kind = 'sqlite';
  private readonly wake = new EventEmitter();
  private readonly consumers = new Set<LogConsumer<unknown>>();
  private readonly insert;
  private readonly pollMs: number;

  constructor(
    private readonly db: Db,
    opts: { pollMs?: number; ownsDb?: boolean } = {},
  ) {
    this.pollMs = opts.pollMs ?? 500;
    this.ownsDb = opts.ownsDb ?? true;
    this.wake.setMaxListeners(0);
    db.exec(`
      CREATE TABLE IF NOT EXISTS bus_log (
        seq   INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        at    INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS bus_log_topic_seq ON bus_log(topic, seq);
      CREATE TABLE IF NOT EXISTS bus_offsets (
        topic TEXT NOT NULL,
        grp   TEXT NOT NULL,
        seq   INTEGER NOT NULL,
        PRIMARY KEY (topic, grp)
      );
    `);
    // UTF-8 bytes are stored as the TEXT they encode (CAST reinterprets, it does not convert), so
    // text encoded on a worker thread is not re-encoded here.
    this.insert = db.prepare('INSERT INTO bus_log (topic, key, value, at) VALUES (?, ?, CAST(? AS TEXT), ?)');
  }
  private readonly ownsDb: boolean;

  async publish<T>(topic: string, records: BusRecord<T>[]): Promise<void> {
    // Each value is serialised as it is written, not all first: a 100,000-row import otherwise
    // held ~60 MB of JSON at once, and collecting it took a third of the publish.
    this.append(topic, records, (r) => JSON.stringify(r.value));
  }

  /** The log holds each value's JSON text, so text serialised on a worker thread is written as it is. */
  async publishEncoded(topic: string, records: EncodedRecord[]): Promise<void> {
    this.append(topic, records, (r) => r.json);
  }

  /** Appends the records in one transaction, then wakes this process's consumers of `topic`. */
  private append<R extends { key: string }>(topic: string, records: R[], json: (r: R) => EncodedRecord['json']): void {
    if (!records.length) return;
    const now = Date.now();
    this.db.transaction(() => {
      for (const r of records) this.insert.run(topic, r.key, json(r), now);
    })();
    this.wake.emit(topic);
  }

  consume<T>(topic: string, group: string, handler: BatchHandler<T>, opts: ConsumeOptions = {}): Consumer {
    const c = new LogConsumer<T>(this.db, this.wake, topic, group, handler, {
      batchSize: opts.batchSize ?? 200,
      concurrency: Math.max(1, Math.floor(opts.concurrency ?? 1)),
      pollMs: this.pollMs,
      compact: () => this.compact(topic),
    });
    this.consumers.add(c as LogConsumer<unknown>);
    c.start();
    return {
      stop: async () => {
        await c.stop();
        this.consumers.delete(c as LogConsumer<unknown>);
      },
      drained: () => c.drained(),
      lastError: () => c.error,
    };
  }

  /**
   * Drops the records of a topic that every consumer group of it has committed: the embedded log
   * would otherwise keep every raw and scored item forever. Groups are known from their committed
   * positions (a consumer registers its group when it starts), so a group that has never
   * consumed a topic in this log does not hold it back.
   */
  compact(topic: string): number {
    const row = this.db.prepare('SELECT min(seq) AS s, count(*) AS n FROM bus_offsets WHERE topic = ?').get(topic) as { s: number | null; n: number };
    if (!row.n || row.s == null) return 0;
    return this.db.prepare('DELETE FROM bus_log WHERE topic = ? AND seq <= ?').run(topic, row.s).changes;
  }

  async lag(topic: string, group: string): Promise<number> {
    const row = this.db
      .prepare(
        `SELECT count(*) AS n FROM bus_log WHERE topic = ? AND seq > coalesce((SELECT seq FROM bus_offsets WHERE topic = ? AND grp = ?), 0)`,
      )
      .get(topic, topic, group) as { n: number };
    return row.n;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    if (this.ownsDb) releaseDatabase(this.db);
  }
}

interface LogConsumerOptions {
  batchSize: number;
  /** Batches handed to the handler at once (ConsumeOptions.concurrency). */
  concurrency: number;
  pollMs: number;
  compact: () => number;
}

class LogConsumer<T> {
  error: Error | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private kick: (() => void) | null = null;
  private waiters: (() => void)[] = [];
  private failures = 0;
  private sinceCompact = 0;
  private readonly fetch;
  private readonly position;
  private readonly commit;
  private readonly register;
  private readonly onWake = () => this.kick?.();

  constructor(
    private readonly db: Db,
    private readonly wake: EventEmitter,
    private readonly topic: string,
    private readonly group: string,
    private readonly handler: BatchHandler<T>,
    private readonly o: LogConsumerOptions,
  ) {
    this.fetch = db.prepare('SELECT seq, key, value FROM bus_log WHERE topic = ? AND seq > ? ORDER BY seq LIMIT ?');
    this.position = db.prepare('SELECT seq FROM bus_offsets WHERE topic = ? AND grp = ?');
    this.register = db.prepare('INSERT OR IGNORE INTO bus_offsets (topic, grp, seq) VALUES (?, ?, 0)');
    this.commit = db.prepare(
      'INSERT INTO bus_offsets (topic, grp, seq) VALUES (?, ?, ?) ON CONFLICT(topic, grp) DO UPDATE SET seq = excluded.seq',
    );
  }

  start(): void {
    // Registering the group at once makes it hold records back from compaction before its first commit.
    this.register.run(this.topic, this.group);
    this.running = true;
    this.wake.on(this.topic, this.onWake);
    this.loop = this.run();
  }

  private committed(): number {
    const row = this.position.get(this.topic, this.group) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /**
   * Hands out up to `concurrency` consecutive batches at once, each settling when its position has
   * committed. The fetch cursor runs ahead of the committed position only by batches in flight;
   * after a failure every later batch fails too (see handle), and fetching restarts from the
   * committed position.
   */
  private async run(): Promise<void> {
    let cursor = 0;
    const inflight: { done: Promise<void>; size: number }[] = [];
    let previous: Promise<void> = Promise.resolve();
    while (this.running) {
      if (inflight.length < this.o.concurrency) {
        // With nothing in flight, read from the committed position, as a consumer with one batch
        // at a time always does (another process of the same group may have moved it).
        if (!inflight.length) cursor = this.committed();
        const rows = this.fetch.all(this.topic, cursor, this.o.batchSize) as { seq: number; key: string; value: string }[];
        if (rows.length) {
          cursor = rows[rows.length - 1]!.seq;
          previous = this.handle(rows, previous);
          // observed below, in order; this only keeps an early rejection from counting as unhandled
          previous.catch(() => {});
          inflight.push({ done: previous, size: rows.length });
          continue;
        }
      }
      const oldest = inflight.shift();
      if (!oldest) {
        this.waiters.splice(0).forEach((w) => w());
        await this.idle(this.o.pollMs);
        continue;
      }
      try {
        await oldest.done;
        this.error = null;
        this.failures = 0;
        // every ~2,000 records handled, drop what all groups have committed
        this.sinceCompact += oldest.size;
        if (this.sinceCompact >= 2_000) {
          this.sinceCompact = 0;
          this.o.compact();
        }
      } catch (err) {
        this.error = err instanceof Error ? err : new Error(String(err));
        this.failures++;
        await Promise.allSettled(inflight.splice(0).map((b) => b.done));
        // The same records are retried from the committed position, backing off up to 30 s.
        await this.idle(Math.min(30_000, 200 * 2 ** Math.min(this.failures, 8)));
        previous = Promise.resolve();
      }
    }
    await Promise.allSettled(inflight.map((b) => b.done));
  }

  /**
   * One batch: the handler, then its position, committed only after `previous` (the batch before
   * it) has committed, and never when that one failed: the position moves only past records whose
   * handler resolved, in order (at-least-once).
   */
  private async handle(rows: { seq: number; key: string; value: string }[], previous: Promise<void>): Promise<void> {
    const batch: DeliveredRecord<T>[] = rows.map((r) => ({
      topic: this.topic,
      key: r.key,
      value: JSON.parse(r.value) as T,
      offset: String(r.seq),
    }));
    const last = rows[rows.length - 1]!.seq;
    let committedInUnit = false;
    const ctx: BatchContext = {
      commitWith: async (fn) => {
        await previous;
        return withUnit(this.db, async () => {
          const out = await fn();
          this.commit.run(this.topic, this.group, last);
          committedInUnit = true;
          return out;
        });
      },
    };
    await this.handler(batch, ctx);
    await previous;
    if (!committedInUnit) this.commit.run(this.topic, this.group, last);
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.kick = null;
        resolve();
      };
      this.kick = done;
      this.timer = setTimeout(done, ms);
    });
  }

  drained(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.kick?.();
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake.off(this.topic, this.onWake);
    this.kick?.();
    await this.loop;
    this.waiters.splice(0).forEach((w) => w());
  }
}
