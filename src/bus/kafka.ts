import kafkajs from 'kafkajs';
import type { Admin, ConsumerConfig, Kafka, Producer, RetryOptions } from 'kafkajs';
import { z } from 'zod';
import type { Bus, BusRecord, BatchHandler, ConsumeOptions, Consumer } from './bus.ts';
import { encodeEnvelope } from './kafka/envelope.ts';
import type { DeadLetter } from './kafka/dlq.ts';
import { DLQ_TOPIC, deadLetterKey } from './kafka/dlq.ts';
import type { HandlerRetry } from './kafka/runner.ts';
import { KafkaConsumerRunner } from './kafka/runner.ts';

export { DLQ_TOPIC } from './kafka/dlq.ts';
export type { DeadLetter } from './kafka/dlq.ts';
export { KafkaConsumerGaveUpError } from './kafka/runner.ts';

const { Kafka: KafkaClient, Partitioners, logLevel } = kafkajs;

export interface KafkaBusOptions {
  brokers: string[];
  /** Namespaces topics and consumer groups, so deployments can share a cluster. Default `sentinel.`. */
  prefix?: string;
  clientId?: string;
  /**
   * Handler retries per sub-batch before the DLQ (default 5 calls, 200 ms doubling to 10 s).
   * Transient failures (a store that is down, busy or full) never lead to the DLQ: the records
   * are held, uncommitted, and retried on the same backoff until they go through.
   */
  handlerRetry?: Partial<HandlerRetry>;
  /** Consumer restarts after a crash before lastError() is final (default 5, from 1 s doubling). */
  maxRestarts?: number;
  restartBackoffMs?: number;
  /** kafkajs request retries (bounded; default 5 retries from 300 ms up to 10 s). */
  retry?: RetryOptions;
  connectionTimeout?: number;
  requestTimeout?: number;
  consumer?: Partial<Omit<ConsumerConfig, 'groupId'>>;
  logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
}

/** Kafka caps a record batch at 1 MB by default; stay well under it per send. */
const MAX_SEND_BYTES = 512 * 1024;
const MAX_SEND_RECORDS = 500;

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9._-]+:\d{1,5}$/, 'expected host:port')
  .refine((s) => {
    const port = Number(s.split(':').pop());
    return port > 0 && port < 65_536;
  }, 'port out of range');
const prefixSchema = z.string().regex(/^[A-Za-z0-9._-]{0,100}$/, 'only letters, digits, ".", "_" and "-"');

/**
 * `kafka://host:9092[,host2:9092][?prefix=sentinel.]` → brokers and prefix. Errors name the
 * variable and the part that is wrong, since this string usually comes from the environment.
 */
export function parseKafkaSpec(spec: string, source = 'SENTINEL_BUS'): { brokers: string[]; prefix: string } {
  if (!spec.startsWith('kafka://')) throw new Error(`${source}=${spec}: expected kafka://host:9092[,host:9092]`);
  const rest = spec.slice('kafka://'.length);
  const q = rest.indexOf('?');
  const hosts = (q < 0 ? rest : rest.slice(0, q)).replace(/\/+$/, '');
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const brokers = hosts.split(',').map((h) => h.trim()).filter(Boolean);
  if (!brokers.length) throw new Error(`${source}=${spec}: no broker given; expected kafka://host:9092[,host:9092]`);
  for (const b of brokers) {
    const r = hostPort.safeParse(b);
    if (!r.success) throw new Error(`${source}=${spec}: broker '${b}': ${r.error.issues[0]!.message}`);
  }
  for (const k of params.keys()) {
    if (k !== 'prefix') throw new Error(`${source}=${spec}: unknown option '${k}'; only 'prefix' is understood`);
  }
  const prefix = params.get('prefix') ?? 'sentinel.';
  const p = prefixSchema.safeParse(prefix);
  if (!p.success) throw new Error(`${source}=${spec}: prefix '${prefix}': ${p.error.issues[0]!.message}`);
  return { brokers, prefix };
}

/**
 * The distributed bus. Records are keyed by item id (one key keeps its order within a
 * partition) and carry a JSON envelope `{v: 1, key, value, at}`. Consumers commit only what the
 * handler finished; a sub-batch that keeps failing goes to `${prefix}dlq` with its error, unless
 * the failure is transient (kafka/transient.ts): then the consumer holds and retries.
 * kafkajs is in maintenance; this file and kafka/ are the only places that know it.
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka';
  readonly prefix: string;
  private readonly kafka: Kafka;
  private producerP: Promise<Producer> | null = null;
  private adminP: Promise<Admin> | null = null;
  private readonly runners = new Set<KafkaConsumerRunner<unknown>>();
  private readonly retry: HandlerRetry;

  static fromSpec(spec: string, opts: Omit<KafkaBusOptions, 'brokers' | 'prefix'> = {}): KafkaBus {
    return new KafkaBus({ ...opts, ...parseKafkaSpec(spec) });
  }

  constructor(private readonly o: KafkaBusOptions) {
    this.prefix = o.prefix ?? 'sentinel.';
    this.retry = { attempts: 5, initialMs: 200, maxMs: 10_000, ...o.handlerRetry };
    this.kafka = new KafkaClient({
      clientId: o.clientId ?? 'sentinel',
      brokers: o.brokers,
      connectionTimeout: o.connectionTimeout ?? 3_000,
      requestTimeout: o.requestTimeout ?? 30_000,
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000, ...o.retry },
      logLevel: { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG }[o.logLevel ?? 'warn'],
    });
  }

  private name(topic: string): string {
    return this.prefix + topic;
  }

  private producer(): Promise<Producer> {
    this.producerP ??= (async () => {
      const p = this.kafka.producer({
        // Idempotence is experimental in kafkajs; at-least-once plus upsert-by-id suffices.
        idempotent: false,
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await p.connect();
      return p;
    })().catch((err) => {
      this.producerP = null;
      throw err;
    });
    return this.producerP;
  }

  private admin(): Promise<Admin> {
    this.adminP ??= (async () => {
      const a = this.kafka.admin();
      await a.connect();
      return a;
    })().catch((err) => {
      this.adminP = null;
      throw err;
    });
    return this.adminP;
  }

  async publish<T>(topic: string, records: BusRecord<T>[]): Promise<void> {
    if (!records.length) return;
    await this.send(this.name(topic), records.map((r) => ({ key: r.key, value: encodeEnvelope(r.key, r.value) })));
  }

  /** Sends in chunks under the broker's batch limit; chunks go in order, so per-key order holds. */
  private async send(topic: string, messages: { key: string; value: string; headers?: Record<string, string> }[]): Promise<void> {
    const producer = await this.producer();
    let chunk: typeof messages = [];
    let bytes = 0;
    const flush = async () => {
      if (!chunk.length) return;
      await producer.send({ topic, acks: -1, messages: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const m of messages) {
      const size = Buffer.byteLength(m.value) + Buffer.byteLength(m.key);
      if (chunk.length && (bytes + size > MAX_SEND_BYTES || chunk.length >= MAX_SEND_RECORDS)) await flush();
      chunk.push(m);
      bytes += size;
    }
    await flush();
  }

  private async deadLetter(letters: DeadLetter[]): Promise<void> {
    await this.send(
      this.name(DLQ_TOPIC),
      letters.map((l) => ({
        key: deadLetterKey(l),
        value: encodeEnvelope(deadLetterKey(l), l),
        headers: { 'sentinel-source-topic': l.topic, 'sentinel-error': l.error.message.slice(0, 1_000) },
      })),
    );
  }

  consume<T>(topic: string, group: string, handler: BatchHandler<T>, opts: ConsumeOptions = {}): Consumer {
    const runner = new KafkaConsumerRunner<T>({
      kafka: this.kafka,
      kafkaTopic: this.name(topic),
      topic,
      groupId: this.name(group),
      group,
      handler,
      batchSize: Math.max(1, opts.batchSize ?? 200),
      retry: this.retry,
      maxRestarts: this.o.maxRestarts ?? 5,
      restartBackoffMs: this.o.restartBackoffMs ?? 1_000,
      consumer: this.o.consumer ?? {},
      deadLetter: (letters) => this.deadLetter(letters),
      lag: () => this.lag(topic, group),
    });
    this.runners.add(runner as KafkaConsumerRunner<unknown>);
    runner.start();
    return {
      stop: async () => {
        await runner.stop();
        this.runners.delete(runner as KafkaConsumerRunner<unknown>);
      },
      drained: () => runner.drained(),
      lastError: () => runner.lastError(),
    };
  }

  /** Σ over partitions of (high watermark − committed offset, or the low watermark if none). */
  async lag(topic: string, group: string): Promise<number> {
    const admin = await this.admin();
    const name = this.name(topic);
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(name),
      admin.fetchOffsets({ groupId: this.name(group), topics: [name] }),
    ]);
    const pos = new Map((committed.find((t) => t.topic === name)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    let lag = 0;
    for (const e of ends) {
      const c = pos.get(e.partition) ?? -1;
      lag += Math.max(0, Number(e.high) - (c >= 0 ? c : Number(e.low)));
    }
    return lag;
  }

  async close(): Promise<void> {
    await Promise.all([...this.runners].map((r) => r.stop()));
    this.runners.clear();
    const [p, a] = [this.producerP, this.adminP];
    this.producerP = this.adminP = null;
    await Promise.all([
      p?.then((x) => x.disconnect()).catch(() => undefined),
      a?.then((x) => x.disconnect()).catch(() => undefined),
    ]);
  }
}
