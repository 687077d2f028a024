import type { Consumer as KafkaConsumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { BatchHandler, DeliveredRecord } from '../bus.ts';
import { decodeEnvelope } from './envelope.ts';
import type { DeadLetter } from './dlq.ts';
import { describeError } from './dlq.ts';
import { isTransient } from './transient.ts';

export interface HandlerRetry {
  /**
   * Handler calls per sub-batch before its records go to the DLQ. Transient failures (the
   * store unavailable) do not count: those records are held and retried until they go through.
   */
  attempts: number;
  initialMs: number;
  maxMs: number;
}

export interface RunnerOptions<T> {
  kafka: Kafka;
  /** Full Kafka names (prefixed) and the logical names the stages use. */
  kafkaTopic: string;
  topic: string;
  groupId: string;
  group: string;
  handler: BatchHandler<T>;
  batchSize: number;
  retry: HandlerRetry;
  /** Consumer (re)starts after a crash before the error is surfaced for good. */
  maxRestarts: number;
  restartBackoffMs: number;
  consumer: Partial<Omit<ConsumerConfig, 'groupId'>>;
  deadLetter: (letters: DeadLetter[]) => Promise<void>;
  lag: () => Promise<number>;
}

/** The consumer crashed more often than it may restart; the desk shows it until someone acts. */
export class KafkaConsumerGaveUpError extends Error {
  override readonly name = 'KafkaConsumerGaveUpError';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs one consumer group member for one topic. kafkajs fetches; this class decides what is
 * committed: a record's offset is resolved only after the handler resolved for it (or after it
 * reached the DLQ), so a stop, crash or rebalance at any point redelivers only records that
 * were not finished — duplicates are possible, losses are not.
 */
export class KafkaConsumerRunner<T> {
  private consumer: KafkaConsumer | null = null;
  private booting: Promise<void> | null = null;
  private stopping = false;
  private stopped = false;
  private inFlight = 0;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private error: Error | null = null;
  private gaveUp: Error | null = null;
  /** Wakes a backoff sleep early when stop() is called. */
  private wakers = new Set<() => void>();

  constructor(private readonly o: RunnerOptions<T>) {}

  start(): void {
    this.booting = this.boot();
  }

  lastError(): Error | null {
    return this.gaveUp ?? this.error;
  }

  private async boot(): Promise<void> {
    const consumer = this.o.kafka.consumer({
      ...this.o.consumer,
      groupId: this.o.groupId,
      allowAutoTopicCreation: true,
      // kafkajs would restart itself without limit and without telling us; we count restarts.
      retry: { ...this.o.consumer.retry, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => this.onCrash(consumer, e.payload.error));
    try {
      await consumer.connect();
      if (this.stopping) return;
      await consumer.subscribe({ topic: this.o.kafkaTopic, fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        autoCommit: true,
        // commitOffsetsIfNecessary commits as soon as one offset was resolved
        autoCommitThreshold: 1,
        eachBatch: (p) => this.eachBatch(p),
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      this.onCrash(consumer, err);
    }
  }

  private onCrash(consumer: KafkaConsumer, err: unknown): void {
    if (this.stopping || consumer !== this.consumer) return;
    const cause = err instanceof Error ? err : new Error(String(err));
    this.error = cause;
    if (this.restarts >= this.o.maxRestarts) {
      this.gaveUp = new KafkaConsumerGaveUpError(
        `kafka consumer ${this.o.group} on ${this.o.topic} stopped after ${this.restarts} restarts: ${cause.name}: ${cause.message}`,
        { cause },
      );
      return;
    }
    this.restarts++;
    const delay = Math.min(this.o.restartBackoffMs * 2 ** (this.restarts - 1), 60_000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.booting = consumer
        .disconnect()
        .catch(() => undefined)
        .then(() => (this.stopping ? undefined : this.boot()));
    }, delay);
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const msgs = batch.messages;
    for (let i = 0; i < msgs.length; i += this.o.batchSize) {
      if (this.stopping || !p.isRunning() || p.isStale()) return;
      const slice = msgs.slice(i, i + this.o.batchSize);
      this.inFlight++;
      try {
        const finished = await this.process(batch.partition, slice, p.heartbeat);
        // Stopped during retries: nothing of this slice is resolved, so it is redelivered.
        if (!finished) return;
        p.resolveOffset(slice[slice.length - 1]!.offset);
        await p.commitOffsetsIfNecessary();
      } finally {
        this.inFlight--;
      }
      await p.heartbeat();
    }
  }

  /** True when every record of the slice was handled or dead-lettered. */
  private async process(partition: number, slice: KafkaMessage[], heartbeat: () => Promise<void>): Promise<boolean> {
    const good: { msg: KafkaMessage; rec: DeliveredRecord<T> }[] = [];
    const letters: DeadLetter[] = [];
    for (const msg of slice) {
      try {
        const env = decodeEnvelope<T>(msg.value, `${this.o.topic}[${partition}]@${msg.offset}`);
        good.push({ msg, rec: { topic: this.o.topic, key: env.key, value: env.value, offset: `${partition}:${msg.offset}` } });
      } catch (err) {
        // A record that does not decode can never succeed: no retries, straight to the DLQ.
        letters.push(this.letter(partition, msg, undefined, err, 0));
      }
    }

    for (let attempt = 1; good.length; attempt++) {
      const outcome = await this.attempt(good.map((g) => g.rec), heartbeat);
      if (outcome === 'stopped') return false;
      if (outcome === 'ok') break;
      if (attempt >= this.o.retry.attempts) {
        const isolated = await this.isolate(partition, good, outcome.error, attempt, heartbeat);
        if (!isolated) return false;
        letters.push(...isolated);
        break;
      }
      if (!(await this.pause(this.backoff(attempt), heartbeat))) return false;
    }

    while (letters.length) {
      try {
        await this.o.deadLetter(letters);
        break;
      } catch (err) {
        // The DLQ itself is unreachable: keep the records uncommitted rather than lose them.
        this.error = err instanceof Error ? err : new Error(String(err));
        if (!(await this.pause(this.o.retry.maxMs, heartbeat))) return false;
      }
    }
    return true;
  }

  /**
   * One handler call that counts toward the DLQ. A transient failure (the store down, busy or
   * full: see transient.ts) is not counted: the records are held — nothing resolved, nothing
   * committed, lastError() telling why — and offered again with backoff until the call succeeds,
   * fails for another reason, or the runner stops.
   */
  private async attempt(records: DeliveredRecord<T>[], heartbeat: () => Promise<void>): Promise<'ok' | 'stopped' | { error: unknown }> {
    for (let held = 1; ; held++) {
      try {
        await this.o.handler(records);
        this.succeeded();
        return 'ok';
      } catch (err) {
        this.error = err instanceof Error ? err : new Error(String(err));
        if (!isTransient(err)) return { error: err };
        if (!(await this.pause(this.backoff(held), heartbeat))) return 'stopped';
      }
    }
  }

  private backoff(n: number): number {
    const base = Math.min(this.o.retry.initialMs * 2 ** (n - 1), this.o.retry.maxMs);
    return base + base * 0.2 * Math.random();
  }

  /**
   * The sub-batch failed every attempt. So that one poison record does not send its
   * neighbours to the DLQ, each record is tried once more on its own; only those that still
   * fail become dead letters. Returns null when stopped half-way (nothing is resolved).
   */
  private async isolate(
    partition: number,
    good: { msg: KafkaMessage; rec: DeliveredRecord<T> }[],
    batchErr: unknown,
    attempts: number,
    heartbeat: () => Promise<void>,
  ): Promise<DeadLetter[] | null> {
    if (good.length === 1) return [this.letter(partition, good[0]!.msg, good[0]!.rec, batchErr, attempts)];
    const out: DeadLetter[] = [];
    for (const g of good) {
      if (this.stopping) return null;
      const outcome = await this.attempt([g.rec], heartbeat);
      if (outcome === 'stopped') return null;
      if (outcome !== 'ok') out.push(this.letter(partition, g.msg, g.rec, outcome.error, attempts + 1));
    }
    return out;
  }

  private letter(partition: number, msg: KafkaMessage, rec: DeliveredRecord<T> | undefined, err: unknown, attempts: number): DeadLetter {
    const l: DeadLetter = {
      topic: this.o.topic,
      group: this.o.group,
      partition,
      offset: msg.offset,
      key: rec?.key ?? msg.key?.toString('utf8') ?? null,
      value: rec?.value ?? null,
      error: describeError(err),
      attempts,
      failedAt: new Date().toISOString(),
    };
    if (!rec) l.raw = msg.value?.toString('utf8') ?? '';
    return l;
  }

  private succeeded(): void {
    this.error = null;
    this.restarts = 0;
  }

  /** Backoff that keeps the group membership alive and ends early on stop(); false if stopping. */
  private async pause(ms: number, heartbeat: () => Promise<void>): Promise<boolean> {
    const end = Date.now() + ms;
    while (!this.stopping && Date.now() < end) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(end - Date.now(), 2_000));
        const self = this;
        function done() {
          clearTimeout(t);
          self.wakers.delete(done);
          resolve();
        }
        this.wakers.add(done);
      });
      if (!this.stopping) await heartbeat();
    }
    return !this.stopping;
  }

  async drained(): Promise<void> {
    for (;;) {
      if (this.gaveUp) throw this.gaveUp;
      if (this.stopping) return;
      if (this.inFlight === 0) {
        const lag = await this.o.lag().catch(() => -1);
        if (lag === 0 && this.inFlight === 0) return;
      }
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    for (const w of [...this.wakers]) w();
    await this.booting?.catch(() => undefined);
    // kafkajs waits for the running eachBatch (which returns after its current sub-batch) and
    // then leaves the group; only resolved offsets were ever committed.
    await this.consumer?.disconnect().catch(() => undefined);
    this.stopped = true;
  }
}
