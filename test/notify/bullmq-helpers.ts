import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { BullmqQueue, type BullmqQueueOptions } from '../../src/notify/bullmq.ts';

/** The throw-away redis-server from the global setup, or null (suites skip). */
export const redisUrl = inject('redisUrl');

/** A queue under its own key prefix, so tests sharing the server never see each other's jobs. */
export function testQueue(over: Partial<BullmqQueueOptions> = {}, url = redisUrl): BullmqQueue {
  if (!url) throw new Error('no Redis peer');
  return new BullmqQueue({ url, prefix: `t${randomUUID().slice(0, 8)}`, stopTimeoutMs: 5_000, ...over });
}
