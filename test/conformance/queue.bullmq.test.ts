import { describe } from 'vitest';
import { queueConformance } from './queue.suite.ts';
import { redisUrl, testQueue } from '../notify/bullmq-helpers.ts';

// The same suite as the embedded outbox, against BullMQ on the redis-server from
// test/peers/redis.ts; each test gets its own key prefix.
describe.skipIf(!redisUrl)('BullMQ (redis-server)', () => {
  queueConformance('BullMQ on Redis', async () => {
    const queue = testQueue();
    return { queue, cleanup: () => queue.close() };
  });
});
