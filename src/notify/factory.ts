import type { Queue } from './queue.ts';
import { acquireDatabase } from '../store/sqlite-db.ts';
import { OutboxQueue } from './outbox.ts';

/** Picks the queue engine from `SENTINEL_QUEUE` (or `--queue`): unset = SQLite outbox; `redis://host:6379` = BullMQ. */
export async function createQueue(spec: string | undefined, dbPath: string): Promise<Queue> {
  if (!spec || spec === 'sqlite') return new OutboxQueue(acquireDatabase(dbPath));
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) {
    throw new Error(`SENTINEL_QUEUE=${spec}: the BullMQ queue is not available in this version yet; unset SENTINEL_QUEUE to use the embedded outbox`);
  }
  throw new Error(`SENTINEL_QUEUE=${spec}: unknown queue; expected unset (embedded) or redis://host:6379`);
}
