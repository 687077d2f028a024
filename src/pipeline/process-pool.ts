import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Level, RawItem, ScoredItem } from '../core/types.ts';
import type { ProcessSettings } from './process.ts';

/** What a worker needs to build the same processor as the main thread. */
export type ProcessWorkerInit = ProcessSettings;

/**
 * A scored item as the worker serialised it: `json` holds the UTF-8 bytes of `JSON.stringify` of
 * the ScoredItem, ready for the bus, with the few fields the main thread reads beside it. The
 * bytes of a batch share one buffer, handed over from the worker without a copy.
 */
export interface EncodedScoredItem {
  id: string;
  level: Level | null;
  json: Buffer;
}

/** A batch of encoded items on the wire: item i's bytes are bytes[ends[i-1] ?? 0, ends[i]). */
export interface EncodedBatch {
  ids: string[];
  levels: (Level | null)[];
  bytes: ArrayBuffer;
  ends: number[];
}

export type PoolRequest =
  | { type: 'process'; id: number; items: RawItem[] }
  | { type: 'encode'; id: number; items: RawItem[] }
  | { type: 'reload'; id: number };
export type PoolResponse =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'done'; id: number; items: ScoredItem[] }
  | { type: 'encoded'; id: number; batch: EncodedBatch }
  | { type: 'failed'; id: number; message: string };

export interface ProcessPool {
  readonly size: number;
  /** Scores a batch across the workers; the result keeps the input order. */
  process(items: RawItem[]): Promise<ScoredItem[]>;
  /**
   * Scores a batch and returns each item as JSON text (UTF-8), serialised on the worker. Cloning a
   * 13 KB ScoredItem to the main thread and serialising it there again cost that thread about
   * 150 µs per item (bench figure 3); the bytes cross threads without a copy.
   */
  processEncoded(items: RawItem[]): Promise<EncodedScoredItem[]>;
  /** Every worker reloads rules/; rejects with the first reason if one keeps its last good rules. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A worker's own heap holds the rules, the region tables and one batch in flight (about 50 MB live,
 * measured); everything else it allocates dies with the batch. A small young generation and a cap on
 * the old one keep V8 from growing the heap far past that between collections: without them each
 * worker's RSS drifted up by 100–200 MB under a steady stream (bench figure 5).
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 };

interface Pending {
  resolve: (items: unknown[]) => void;
  reject: (err: Error) => void;
}

/** A worker thread and the requests it has not answered; replaced when it dies. */
class PoolWorker {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ready!: Promise<void>;
  private closing = false;

  constructor(
    private readonly init: ProcessWorkerInit,
    private readonly log: Logger,
  ) {
    this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(new URL('./process-worker-entry.js', import.meta.url), { workerData: this.init, resourceLimits: WORKER_HEAP });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: PoolResponse) => {
        if (m.type === 'ready') return resolve();
        if (m.type === 'fatal') return reject(new Error(`process worker could not start: ${m.message}`));
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.type === 'done') p.resolve(m.items);
        else if (m.type === 'encoded') p.resolve(decodeBatch(m.batch));
        else p.reject(new Error(m.message));
      });
      worker.on('error', (err) => {
        reject(err);
        this.failAll(new Error(`process worker crashed: ${err.message}`));
      });
      worker.on('exit', (code) => {
        reject(new Error(`process worker exited with code ${code}`));
        this.failAll(new Error(`process worker exited with code ${code}`));
        // The batch it held is retried by the bus from the same position; a new worker takes over.
        if (!this.closing) {
          this.log.error({ code }, 'process worker died; starting a new one');
          this.spawn();
        }
      });
    });
    this.ready.catch(() => {});
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  started(): Promise<void> {
    return this.ready;
  }

  async request<R>(msg: { type: 'process' | 'encode'; items: RawItem[] } | { type: 'reload' }): Promise<R[]> {
    await this.ready;
    const id = this.nextId++;
    return new Promise<R[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (items: unknown[]) => void, reject });
      this.worker.postMessage({ ...msg, id } as PoolRequest);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

function decodeBatch(b: EncodedBatch): EncodedScoredItem[] {
  let start = 0;
  return b.ids.map((id, i) => {
    const end = b.ends[i]!;
    const json = Buffer.from(b.bytes, start, end - start);
    start = end;
    return { id, level: b.levels[i]!, json };
  });
}

/** Worker side: a scored batch as JSON, UTF-8 encoded into one buffer that can be transferred. */
export function encodeBatch(items: ScoredItem[]): EncodedBatch {
  const texts = items.map((s) => JSON.stringify(s));
  let total = 0;
  for (const t of texts) total += Buffer.byteLength(t, 'utf8');
  // not from Buffer's shared pool, whose memory cannot be transferred
  const buf = Buffer.allocUnsafeSlow(total);
  const ends = new Array<number>(texts.length);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    at += buf.write(texts[i]!, at, 'utf8');
    ends[i] = at;
  }
  return { ids: items.map((s) => s.id), levels: items.map((s) => s.level), bytes: buf.buffer as ArrayBuffer, ends };
}

/**
 * The process stage on worker threads. Segmenting and scoring are CPU-bound and were measured to
 * hold the event loop for up to a second per batch under load, delaying every store read and
 * webhook behind them (bench figure 4); on workers they also run in parallel with storing.
 */
export async function startProcessPool(init: ProcessWorkerInit, size: number, log: Logger): Promise<ProcessPool> {
  const workers = Array.from({ length: size }, () => new PoolWorker(init, log));
  try {
    await Promise.all(workers.map((w) => w.started()));
  } catch (err) {
    await Promise.all(workers.map((w) => w.close()));
    throw err;
  }
  const spread = async <R>(type: 'process' | 'encode', items: RawItem[]): Promise<R[]> => {
    if (items.length === 0) return [];
    const per = Math.ceil(items.length / workers.length);
    const parts = await Promise.all(
      workers.map((w, i) => {
        const slice = items.slice(i * per, (i + 1) * per);
        return slice.length ? w.request<R>({ type, items: slice }) : Promise.resolve([]);
      }),
    );
    return parts.flat();
  };
  return {
    size,
    process: (items) => spread<ScoredItem>('process', items),
    processEncoded: (items) => spread<EncodedScoredItem>('encode', items),
    async reload() {
      await Promise.all(workers.map((w) => w.request({ type: 'reload' })));
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
