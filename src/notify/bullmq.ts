import { Queue as BullQueue, Worker, UnrecoverableError, DelayedError, type Job, type JobState } from 'bullmq';
import { Redis } from 'ioredis';
import type { ChannelCounts, Delivery, DeliveryHandler, DeliveryState, Queue, QueueWorker, WorkOptions } from './queue.ts';
import { DeferDelivery, PermanentDeliveryError } from './queue.ts';
import { digestIdFor } from './outbox.ts';
import { jobIdFor } from './bullmq/ids.ts';
import { BACKOFF_TYPE, backoffDelay } from './bullmq/backoff.ts';
import { safeSpec } from '../core/redact.ts';

export interface BullmqQueueOptions {
  /** `redis://[user:pass@]host:port[/db]` (or rediss://), without query options. */
  url: string;
  /** Redis key prefix, so deployments can share a server. Default `sentinel`. */
  prefix?: string;
  queueName?: string;
  /** Deliveries one worker sends at once. Default 4. */
  concurrency?: number;
  /** How long stop() waits for running deliveries before it force-closes. Default 10 s. */
  stopTimeoutMs?: number;
  /** A worker that stops renewing its lock this long loses the job to another worker. Default 30 s. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/**
 * BullMQ fixes `attempts` when a job is added, but our contract sets the limit per worker
 * (`work({maxAttempts})`). Jobs therefore carry this ceiling and the worker ends the retries
 * itself at its own maxAttempts by throwing UnrecoverableError.
 */
const ATTEMPTS_CEILING = 100;

interface JobData {
  delivery: Delivery;
  /** Set when the job was dead-lettered but its onDead hook has not succeeded yet. */
  dead?: string;
}

/** How many jobs per state channelCounts reads (the channels page); beyond it counts are a lower bound. */
const COUNT_SCAN_CAP = 5_000;

/** The Redis keys our own bookkeeping uses next to BullMQ's. */
export interface SentinelKeys {
  byAlert(alertId: string): string;
  /** Sorted set of job ids parked for a channel by DeferDelivery, scored by when they may go. */
  parked(channel: string): string;
  /** Hash: job id → digest id, for jobs that went out inside another job's digest. */
  digested: string;
}

export function parseRedisSpec(spec: string, source = 'SENTINEL_QUEUE'): { url: string; prefix: string } {
  // a Redis password in the URL must not reach the start-up error and the logs
  const shown = safeSpec(spec);
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new Error(`${source}=${shown}: not a URL; expected redis://host:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`${source}=${shown}: expected redis:// or rediss://`);
  if (!u.hostname) throw new Error(`${source}=${shown}: no host; expected redis://host:6379`);
  if (u.pathname && u.pathname !== '/' && !/^\/\d{1,2}$/.test(u.pathname)) {
    throw new Error(`${source}=${shown}: path '${u.pathname}' must be a database number such as /0`);
  }
  for (const k of u.searchParams.keys()) {
    if (k !== 'prefix') throw new Error(`${source}=${shown}: unknown option '${k}'; only 'prefix' is understood`);
  }
  const prefix = u.searchParams.get('prefix') ?? 'sentinel';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(prefix)) throw new Error(`${source}=${shown}: prefix '${prefix}': only letters, digits, ".", "_" and "-"`);
  // ioredis reads query parameters as client options; ours are not for it.
  u.search = '';
  return { url: u.toString(), prefix };
}

/**
 * The distributed queue: BullMQ on Redis. A job per delivery with `jobId` derived from the
 * delivery id, so enqueueing an event twice is a no-op; failed-after-last-attempt jobs are the
 * dead letters and are kept (removeOnFail: false). A sorted set per alert lists its jobs for
 * the desk. Redis should run with AOF and `maxmemory-policy noeviction`: an evicted job is a
 * webhook never sent.
 *
 * Digests, as in the outbox but with BullMQ's own states: a job whose handler throws
 * DeferDelivery is moved to `delayed` until the slot (attempts not counted) and parked in a
 * per-channel set. The first parked job to run takes the whole set and sends one digest; the
 * others are recorded as delivered in that digest, promoted, and complete without sending.
 * What differs from the outbox: a digest that fails is charged to the job that led it (the
 * others go back to the parked set and wait for the next digest), and a dead letter's onDead
 * hook runs in the job's last attempt (a failing hook retries the job with backoff, without
 * sending again).
 */
export class BullmqQueue implements Queue {
  readonly kind = 'bullmq';
  private readonly conn: Redis;
  private readonly queue: BullQueue<JobData>;
  private readonly workers = new Set<BullmqWorker>();
  private readonly prefix: string;
  private readonly name: string;

  static fromSpec(spec: string, opts: Omit<BullmqQueueOptions, 'url' | 'prefix'> = {}): BullmqQueue {
    return new BullmqQueue({ ...opts, ...parseRedisSpec(spec) });
  }

  constructor(private readonly o: BullmqQueueOptions) {
    this.prefix = o.prefix ?? 'sentinel';
    this.name = o.queueName ?? 'deliveries';
    const base = `${this.prefix}:${this.name}:sentinel`;
    this.keys = {
      byAlert: (alertId) => `${base}:by-alert:${alertId}`,
      parked: (channel) => `${base}:parked:${encodeURIComponent(channel)}`,
      digested: `${base}:digested`,
    };
    // The producer side fails fast while Redis is away (ioredis default retries per request),
    // so the alerts stage's bus batch fails and is retried rather than hanging.
    this.conn = new Redis(o.url, { lazyConnect: true });
    this.conn.on('error', () => undefined); // reconnects by itself; commands report failures
    this.queue = new BullQueue<JobData>(this.name, { connection: this.conn, prefix: this.prefix });
    this.queue.on('error', () => undefined);
  }

  private readonly keys: SentinelKeys;

  private alertKey(alertId: string): string {
    return this.keys.byAlert(alertId);
  }

  async enqueue(deliveries: Delivery[]): Promise<void> {
    if (!deliveries.length) return;
    const now = Date.now();
    // The index first: a crash between the two leaves an index entry without a job (skipped
    // when read), never a job the desk cannot find.
    const multi = this.conn.multi();
    for (const d of deliveries) multi.zadd(this.alertKey(d.alertId), 'NX', now, jobIdFor(d.id));
    const res = await multi.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0]!;
    await this.queue.addBulk(
      deliveries.map((d) => ({
        name: d.channel,
        data: { delivery: d },
        opts: {
          jobId: jobIdFor(d.id),
          attempts: ATTEMPTS_CEILING,
          backoff: { type: BACKOFF_TYPE },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
  }

  work(handler: DeliveryHandler, opts: WorkOptions = {}): QueueWorker {
    const w = new BullmqWorker(this.queue, this.o, this.name, this.prefix, this.keys, handler, {
      maxAttempts: opts.maxAttempts ?? 8,
      backoffMs: opts.backoffMs ?? 2_000,
      pollMs: opts.pollMs ?? 1_000,
      digest: opts.digest,
      onDead: opts.onDead,
    });
    this.workers.add(w);
    return {
      stop: async () => {
        await w.stop();
        this.workers.delete(w);
      },
      drained: () => w.drained(),
    };
  }

  async deliveriesFor(alertId: string): Promise<DeliveryState[]> {
    const ids = await this.conn.zrange(this.alertKey(alertId), 0, -1);
    const out: DeliveryState[] = [];
    for (const id of ids) {
      // The state before the job's hash: a job that moves on in between is shown with its newer
      // attempts and older state (still pending), never as dead with its last attempt missing.
      const state = await this.queue.getJobState(id);
      const job = (await this.queue.getJob(id)) as Job<JobData> | undefined;
      if (!job || state === 'unknown') continue;
      out.push(await this.toState(job, state));
    }
    return out;
  }

  async channelCounts(): Promise<Record<string, ChannelCounts>> {
    const out: Record<string, ChannelCounts> = {};
    const states = { delivered: ['completed'], dead: ['failed'], pending: ['waiting', 'active', 'delayed', 'prioritized'] } as const;
    for (const [status, list] of Object.entries(states) as [keyof ChannelCounts, readonly string[]][]) {
      const jobs = (await this.queue.getJobs([...list] as never, 0, COUNT_SCAN_CAP - 1)) as (Job<JobData> | undefined)[];
      for (const j of jobs) if (j) (out[j.name] ??= { delivered: 0, pending: 0, dead: 0 })[status]++;
    }
    return out;
  }

  private async toState(job: Job<JobData>, state: JobState): Promise<DeliveryState> {
    const digestId = await this.conn.hget(this.keys.digested, job.id!);
    const status = state === 'completed' || digestId ? 'delivered' : state === 'failed' ? 'dead' : 'pending';
    const parked = status === 'pending' && (await this.conn.zscore(this.keys.parked(job.data.delivery.channel), job.id!)) !== null;
    let next = job.finishedOn ?? Date.now();
    if (state === 'delayed') {
      // BullMQ scores delayed jobs as dueTime · 4096 + a tie-breaker.
      const score = await this.conn.zscore(this.queue.keys.delayed!, job.id!);
      if (score !== null) next = Math.floor(Number(score) / 0x1000);
    }
    return {
      ...job.data.delivery,
      status,
      attempts: job.attemptsMade,
      lastError: status === 'delivered' ? null : job.failedReason || null,
      nextAttemptAt: new Date(next).toISOString(),
      updatedAt: new Date(job.finishedOn ?? job.processedOn ?? job.timestamp).toISOString(),
      ...(digestId ? { digestId } : {}),
      ...(parked ? { deferred: true } : {}),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
    this.workers.clear();
    await this.queue.close().catch(() => undefined);
    await this.conn.quit().catch(() => this.conn.disconnect());
  }
}

class BullmqWorker {
  private readonly conn: Redis;
  private readonly worker: Worker<JobData>;
  private stopped: Promise<void> | null = null;
  /** Handler calls in progress in this process. */
  private running = 0;
  lastError: Error | null = null;

  constructor(
    private readonly queue: BullQueue<JobData>,
    o: BullmqQueueOptions,
    name: string,
    prefix: string,
    private readonly keys: SentinelKeys,
    private readonly handler: DeliveryHandler,
    private readonly w: Required<Omit<WorkOptions, 'digest' | 'onDead'>> & Pick<WorkOptions, 'digest' | 'onDead'>,
  ) {
    // Workers block on Redis and must ride out a restart: no per-request retry limit.
    this.conn = new Redis(o.url, { maxRetriesPerRequest: null });
    this.conn.on('error', () => undefined);
    this.worker = new Worker<JobData>(
      name,
      async (job, token) => {
        this.running++;
        try {
          return await this.process(job, token);
        } finally {
          this.running--;
        }
      },
      {
        connection: this.conn,
        prefix,
        concurrency: o.concurrency ?? 4,
        lockDuration: o.lockDurationMs ?? 30_000,
        stalledInterval: o.stalledIntervalMs ?? 30_000,
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string) =>
            type === BACKOFF_TYPE ? backoffDelay(attemptsMade, w.backoffMs) : -1,
        },
      },
    );
    this.worker.on('error', (err) => (this.lastError = err));
    this.stopTimeoutMs = o.stopTimeoutMs ?? 10_000;
  }
  private readonly stopTimeoutMs: number;

  private async process(job: Job<JobData>, token: string | undefined): Promise<unknown> {
    const id = job.id!;
    const d = job.data.delivery;
    // Went out inside another job's digest: nothing left to send.
    const digested = await this.conn.hget(this.keys.digested, id);
    if (digested) return { digestId: digested };
    // Dead already; only its hook is owed.
    if (job.data.dead !== undefined) return this.dead(job, job.data.dead);
    const attempt = job.attemptsMade + 1;
    try {
      if (this.w.digest && (await this.conn.zscore(this.keys.parked(d.channel), id)) !== null) {
        const sent = await this.sendDigest(job, token);
        if (sent) return sent;
      }
      await this.handler(d, attempt);
      return undefined;
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof DeferDelivery) {
        const until = Math.max(Date.now(), err.until.getTime());
        await this.conn.zadd(this.keys.parked(d.channel), until, id);
        await job.moveToDelayed(until, token);
        throw new DelayedError(msg);
      }
      // A 4xx, or the last attempt: no more retries; the job stays in "failed" as a dead letter.
      if (err instanceof PermanentDeliveryError || attempt >= this.w.maxAttempts) return this.dead(job, msg);
      throw err instanceof Error ? err : new Error(msg);
    }
  }

  /** Ends the job as a dead letter once its onDead hook (if any) has run. */
  private async dead(job: Job<JobData>, msg: string): Promise<never> {
    if (this.w.onDead) {
      if (job.data.dead === undefined) await job.updateData({ ...job.data, dead: msg });
      try {
        await this.w.onDead(job.data.delivery, msg);
      } catch (err) {
        // Retried with backoff; the next run sees `dead` and only calls the hook again.
        throw new Error(`${msg} (onDead failed: ${err instanceof Error ? err.message : String(err)})`);
      }
    }
    throw new UnrecoverableError(msg);
  }

  /**
   * This job was parked and is due: take every job parked for its channel and send them as one
   * digest. Returns the result when a digest went out, or undefined to send this job alone.
   */
  private async sendDigest(job: Job<JobData>, token: string | undefined): Promise<unknown> {
    const d = job.data.delivery;
    const key = this.keys.parked(d.channel);
    const res = await this.conn.multi().zrange(key, 0, -1, 'WITHSCORES').del(key).exec();
    const flat = (res?.[0]?.[1] as string[] | undefined) ?? [];
    const claimed = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) claimed.set(flat[i]!, Number(flat[i + 1]));
    if (!claimed.has(job.id!)) {
      // Another worker's digest took this job; look again shortly whether it went out.
      if (claimed.size) await this.conn.zadd(key, ...[...claimed].flatMap(([m, s]) => [s, m]));
      await job.moveToDelayed(Date.now() + Math.min(this.w.backoffMs, 1_000), token);
      throw new DelayedError('taken into another digest');
    }
    const others: Job<JobData>[] = [];
    for (const id of claimed.keys()) {
      if (id === job.id) continue;
      const j = (await this.job(id)) as Job<JobData> | undefined;
      if (j && !(await this.conn.hexists(this.keys.digested, id))) others.push(j);
    }
    if (!others.length) return undefined;
    const members = [job, ...others];
    const digestId = digestIdFor(d.channel, members.map((m) => m.data.delivery.id));
    try {
      await this.w.digest!(d.channel, members.map((m) => m.data.delivery), digestId);
    } catch (err) {
      const until = err instanceof DeferDelivery ? err.until.getTime() : Date.now();
      await this.conn.zadd(key, ...others.flatMap((o) => [Math.max(claimed.get(o.id!) ?? 0, until), o.id!]));
      throw err;
    }
    await this.conn.hset(this.keys.digested, Object.fromEntries(members.map((m) => [m.id!, digestId])));
    // The others are delayed until their own slot; bring them forward so they complete now.
    for (const o of others) await o.promote().catch(() => undefined);
    return { digestId };
  }

  private job(id: string) {
    return this.queue.getJob(id);
  }

  /** Nothing waiting, running, or delayed and already due. */
  async drained(): Promise<void> {
    while (!this.stopped) {
      const c = await this.queue.getJobCounts('waiting', 'active', 'prioritized');
      if (!c.waiting && !c.active && !c.prioritized) {
        const [, score] = await this.conn.zrange(this.queue.keys.delayed!, 0, 0, 'WITHSCORES');
        if (score === undefined || Math.floor(Number(score) / 0x1000) > Date.now()) return;
      }
      await new Promise((r) => setTimeout(r, Math.min(this.w.pollMs, 100)));
    }
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // worker.close() waits for running jobs without a limit of its own, and a later
      // close(true) returns that same pending promise; so: stop taking jobs, wait for the
      // running ones up to the deadline ourselves, then close gracefully or by force.
      await this.worker.pause(true).catch(() => undefined);
      const deadline = Date.now() + this.stopTimeoutMs;
      while (this.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Forced: a hung job's lock is no longer renewed, so after lockDuration another worker
      // takes it over and sends it again under the same id.
      const force = this.running > 0;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.worker.close(force).catch(() => undefined),
        new Promise((r) => (timer = setTimeout(r, 5_000))),
      ]);
      clearTimeout(timer);
      await this.conn.quit().catch(() => this.conn.disconnect());
    })();
    return this.stopped;
  }
}
