/**
 * The bus is the only door between stages. Embedded: an append-only log in the SQLite file;
 * distributed: Kafka. Delivery is at-least-once: a consumer's position moves only after its
 * handler resolved, so handlers must be idempotent (every write is an upsert by id).
 */
export interface BusRecord<T = unknown> {
  /** Item id: records with one key keep their order. */
  key: string;
  value: T;
}

export interface DeliveredRecord<T = unknown> extends BusRecord<T> {
  topic: string;
  /** Engine-specific position, opaque to stages. */
  offset: string;
}

/**
 * What an engine offers a handler beyond the batch. `commitWith(fn)` runs the handler's writes and
 * the batch's read position as one unit where the engine can (the embedded log: one SQLite
 * transaction, so a crash leaves both or neither); engines that cannot just run `fn`, and the
 * position is committed after the handler as usual.
 */
export interface BatchContext {
  commitWith<R>(fn: () => R | Promise<R>): Promise<R>;
}

export type BatchHandler<T = unknown> = (batch: DeliveredRecord<T>[], ctx?: BatchContext) => Promise<void>;

/** `ctx.commitWith(fn)` when the engine offers it, else `fn()`. */
export function commitWith<R>(ctx: BatchContext | undefined, fn: () => R | Promise<R>): Promise<R> {
  return ctx ? ctx.commitWith(fn) : Promise.resolve().then(fn);
}

export interface ConsumeOptions {
  /** Most records handed to one handler call. */
  batchSize?: number;
  /**
   * Consecutive batches a handler may work on at once (default 1). Positions still commit in
   * order: a batch's `commitWith` waits until the batch before it has committed, and fails if that
   * one failed, so everything from the first failed batch is retried. Only for handlers whose work
   * before `commitWith` has no side effects (the process stage: scoring on worker threads), so the
   * next batch is being scored while this one is written. Engines may run fewer (Kafka runs one).
   */
  concurrency?: number;
}

/** A record whose value a worker thread has already serialised as JSON. */
export interface EncodedRecord {
  key: string;
  /** `JSON.stringify` of the value, exactly as `publish` would have written it, or its UTF-8 bytes. */
  json: string | Uint8Array;
}

export interface Consumer {
  /** Stops fetching, waits for the running batch, commits nothing unprocessed. */
  stop(): Promise<void>;
  /** Resolves when the consumer has handled everything published so far (tests, CLI). */
  drained(): Promise<void>;
  /** The last handler error, or null; a failing batch is retried from the same position. */
  lastError(): Error | null;
}

export interface Bus {
  readonly kind: string;
  publish<T>(topic: string, records: BusRecord<T>[]): Promise<void>;
  /**
   * Publishes values serialised elsewhere (on a worker thread), written as they are instead of
   * being cloned to this thread and serialised again. Only engines that store the JSON text
   * itself offer it (the embedded log); for the others, publish objects.
   */
  publishEncoded?(topic: string, records: EncodedRecord[]): Promise<void>;
  consume<T>(topic: string, group: string, handler: BatchHandler<T>, opts?: ConsumeOptions): Consumer;
  /** Records published but not yet committed by the group. */
  lag(topic: string, group: string): Promise<number>;
  close(): Promise<void>;
}

/** Topic names shared by every engine. */
export const TOPICS = { raw: 'items.raw', scored: 'items.scored' } as const;
