import { Queue as BullQueue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { parseRedisSpec } from '../notify/bullmq.ts';
import type { SchedulerLike } from './scheduler.ts';

export interface BullmqSchedulerOptions {
  /** `redis://[user:pass@]host:port[/db]` (or rediss://), without query options. */
  url: string;
  /** Redis key prefix, shared with the delivery queue of the same deployment. Default `sentinel`. */
  prefix?: string;
  /** Upper bound for stop(), running tasks included. Default 10 s. */
  stopTimeoutMs?: number;
  /**
   * The interval a brand-new schedule starts with, until its first run returns the real one.
   * Only matters if every process dies during that first run. Default 60 s.
   */
  provisionalEveryMs?: number;
  /** A returned delay this far (as a fraction) from the stored interval re-times the schedule. Default 0.1. */
  retuneThreshold?: number;
  /** Next delay after a task threw, as the embedded scheduler does. Default 60 s. */
  failureDelayMs?: number;
  /** A process that stops renewing its lock this long loses the run to another process. Default 30 s. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Redis and task errors (the schedule itself keeps going). */
  onError?: (err: Error, task: string) => void;
}

/** Each task's queue holds exactly one job scheduler under this id. */
const SCHEDULER_ID = 'every';

interface Entry {
  name: string;
  queue: BullQueue;
  worker: Worker;
  /** Runs of this task in progress in this process (0 or 1: worker concurrency is 1). */
  running: number;
}

/** A queue per task name; BullMQ forbids ':' in queue names, so names are percent-encoded. */
export function scheduleQueueName(task: string): string {
  if (!task) throw new Error('scheduler: a task needs a name');
  return `schedule.${encodeURIComponent(task)}`;
}

/**
 * The distributed scheduler: each task name is a BullMQ job scheduler (`every` ms) in its own
 * queue, `<prefix>:schedule.<name>`. However many processes register a name, Redis creates one
 * job per period and exactly one of their workers runs it; a process that did not register a
 * name has no worker on its queue, so it can never receive (and drop) that task's runs — which
 * a single shared queue could not guarantee, since BullMQ workers cannot filter by job name.
 *
 * The embedded contract lets a task return its next delay. Here that delay re-times the shared
 * schedule (`every` := delay, next run at now + delay) when it differs from the stored interval
 * by more than `retuneThreshold`; smaller differences (jitter) keep the schedule as it is, so a
 * steady source causes no extra writes. A failing source's backoff therefore applies to every
 * process, and the first success returns it to its normal interval.
 *
 * The queue's global concurrency is 1: a run that outlasts its period delays the next one
 * instead of overlapping it in another process, as the embedded scheduler never overlaps a task.
 *
 * Connections: one shared client, plus one blocking connection per task per process.
 * Schedules live on in Redis after stop() — other processes still use them; a task removed from
 * every pipeline leaves one idle waiting job in its queue (`forget(name)` removes the schedule).
 */
export class BullmqScheduler implements SchedulerLike {
  readonly kind = 'bullmq';
  private readonly conn: Redis;
  private readonly prefix: string;
  private readonly entries = new Map<string, Entry>();
  private stopping: Promise<void> | null = null;
  private readonly o: Required<Omit<BullmqSchedulerOptions, 'onError' | 'prefix'>> & Pick<BullmqSchedulerOptions, 'onError'>;

  static fromSpec(spec: string, opts: Omit<BullmqSchedulerOptions, 'url' | 'prefix'> = {}): BullmqScheduler {
    return new BullmqScheduler({ ...opts, ...parseRedisSpec(spec) });
  }

  constructor(opts: BullmqSchedulerOptions) {
    this.prefix = opts.prefix ?? 'sentinel';
    this.o = {
      url: opts.url,
      stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
      provisionalEveryMs: opts.provisionalEveryMs ?? 60_000,
      retuneThreshold: opts.retuneThreshold ?? 0.1,
      failureDelayMs: opts.failureDelayMs ?? 60_000,
      lockDurationMs: opts.lockDurationMs ?? 30_000,
      stalledIntervalMs: opts.stalledIntervalMs ?? 30_000,
      onError: opts.onError,
    };
    // Workers share it and block on their own duplicates; like every BullMQ worker connection
    // it must ride out a Redis restart, so no per-request retry limit. Lazy: constructing the
    // scheduler (e.g. in the factory) never connects.
    this.conn = new Redis(this.o.url, { maxRetriesPerRequest: null, lazyConnect: true });
    this.conn.on('error', () => undefined); // reconnects by itself; commands report failures
  }

  private report(err: unknown, task: string): void {
    this.o.onError?.(err instanceof Error ? err : new Error(String(err)), task);
  }

  schedule(name: string, firstDelayMs: number, task: () => Promise<number>): void {
    if (this.stopping) throw new Error(`scheduler: cannot schedule '${name}' after stop()`);
    if (this.entries.has(name)) throw new Error(`scheduler: task '${name}' is already scheduled in this process`);
    const queueName = scheduleQueueName(name);
    const queue = new BullQueue(queueName, { connection: this.conn, prefix: this.prefix });
    queue.on('error', (err) => this.report(err, name));
    const entry: Entry = { name, queue, running: 0, worker: null as unknown as Worker };
    entry.worker = new Worker(
      queueName,
      async () => {
        entry.running++;
        try {
          let next: number;
          try {
            next = await task();
          } catch (err) {
            this.report(err, name);
            next = this.o.failureDelayMs;
          }
          next = Number.isFinite(next) && next >= 1 ? Math.round(next) : this.o.failureDelayMs;
          if (!this.stopping) await this.retune(entry, next).catch((err) => this.report(err, name));
          return { next };
        } finally {
          entry.running--;
        }
      },
      {
        connection: this.conn,
        prefix: this.prefix,
        concurrency: 1,
        lockDuration: this.o.lockDurationMs,
        stalledInterval: this.o.stalledIntervalMs,
      },
    );
    entry.worker.on('error', (err) => this.report(err, name));
    this.entries.set(name, entry);
    void this.register(entry, Math.max(0, firstDelayMs)).catch((err) => this.report(err, name));
  }

  /** Creates the shared schedule unless another process already did (its interval then stands). */
  private async register(e: Entry, firstDelayMs: number): Promise<void> {
    await e.queue.setGlobalConcurrency(1);
    if (await e.queue.getJobScheduler(SCHEDULER_ID)) return;
    // Two processes racing here both upsert; the second replaces the first's pending job
    // rather than adding one, so the schedule still fires once per period.
    await this.upsert(e, this.o.provisionalEveryMs, Date.now() + firstDelayMs);
  }

  private async retune(e: Entry, next: number): Promise<void> {
    const current = await e.queue.getJobScheduler(SCHEDULER_ID);
    const every = current?.every;
    if (every && Math.abs(next - every) <= this.o.retuneThreshold * every) return;
    // A changed interval makes BullMQ drop the pending run and start again at startDate.
    await this.upsert(e, next, Date.now() + next);
  }

  private upsert(e: Entry, every: number, startDate: number) {
    return e.queue.upsertJobScheduler(
      SCHEDULER_ID,
      { every, startDate },
      // Runs leave no history behind: the task's own status (source state, logs) is the record.
      { name: e.name, data: {}, opts: { removeOnComplete: true, removeOnFail: 50 } },
    );
  }

  /** The shared schedule of a task as Redis holds it (every ms, next run), or null. */
  async describe(name: string): Promise<{ everyMs: number; nextRunAt: Date | null } | null> {
    const e = this.entries.get(name);
    const queue = e?.queue ?? new BullQueue(scheduleQueueName(name), { connection: this.conn, prefix: this.prefix });
    try {
      const s = await queue.getJobScheduler(SCHEDULER_ID);
      if (!s?.every) return null;
      return { everyMs: s.every, nextRunAt: s.next ? new Date(s.next) : null };
    } finally {
      if (!e) await queue.close();
    }
  }

  /** Deletes a task's schedule for every process (a source removed from the pipeline). */
  async forget(name: string): Promise<boolean> {
    const e = this.entries.get(name);
    const queue = e?.queue ?? new BullQueue(scheduleQueueName(name), { connection: this.conn, prefix: this.prefix });
    try {
      return await queue.removeJobScheduler(SCHEDULER_ID);
    } finally {
      if (!e) await queue.close();
    }
  }

  /**
   * Stops taking runs, gives runs in progress until shortly before the deadline, then closes —
   * by force if a run still hangs: its lock then lapses and another process's stalled check
   * hands that run to a live worker. Resolves within `stopTimeoutMs` either way; the schedules
   * stay in Redis for the other processes.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const start = Date.now();
      const deadline = start + this.o.stopTimeoutMs;
      // what closing the workers and connections may take at most, kept back from the runs' share
      const closeShare = Math.min(2_000, this.o.stopTimeoutMs / 4);
      const entries = [...this.entries.values()];
      // pause(true) is local and does not wait for runs; worker.close() would wait without limit
      await Promise.all(entries.map((e) => e.worker.pause(true).catch(() => undefined)));
      while (entries.some((e) => e.running > 0) && Date.now() < deadline - closeShare) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const force = entries.some((e) => e.running > 0);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(entries.flatMap((e) => [e.worker.close(force).catch(() => undefined), e.queue.close().catch(() => undefined)])),
        new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
      // not quit(): it would wait behind whatever a hung run still has queued on the connection
      this.conn.disconnect();
    })();
    return this.stopping;
  }
}
