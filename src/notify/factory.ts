import type { Queue } from './queue.ts';
import { acquireDatabase } from '../store/sqlite-db.ts';
import { OutboxQueue } from './outbox.ts';
import { safeSpec } from '../core/redact.ts';

/** Picks the queue engine from `SENTINEL_QUEUE` (or `--queue`): unset = SQLite outbox; `redis://host:6379` = BullMQ. */
export async function createQueue(spec: string | undefined, dbPath: string): Promise<Queue> {
  if (!spec || spec === 'sqlite') return new OutboxQueue(acquireDatabase(dbPath));
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) {
    // Loaded only here, so embedded mode never loads bullmq or ioredis.
    const { BullmqQueue } = await import('./bullmq.ts');
    return BullmqQueue.fromSpec(spec);
  }
  throw new Error(`SENTINEL_QUEUE=${safeSpec(spec)}: unknown queue; expected unset (embedded) or redis://host:6379`);
}
