import { describe, it, expect, afterEach } from 'vitest';
import type { BullmqQueue } from '../../src/notify/bullmq.ts';
import type { Delivery } from '../../src/notify/queue.ts';
import { eventually, tempDir } from '../helpers/tmp.ts';
import { startRedis } from '../peers/redis.ts';
import type { Peer } from '../peers/spawn.ts';
import { redisUrl, testQueue } from './bullmq-helpers.ts';

const delivery = (n: number): Delivery => ({
  id: `alert-${n}.county-office.raised`,
  alertId: `alert-${n}`,
  channel: 'county-office',
  payload: { alert: { id: `alert-${n}`, title: `某县农贸市场抽检不合格 第${n}批` } },
});

// Its own redis-server with an append-only file (as in docker-compose), killed and restarted.
describe.skipIf(!redisUrl)('BullMQ queue across a Redis crash (own redis-server)', () => {
  let redis: (Peer & { url: string; port: number }) | null = null;
  let queue: BullmqQueue | null = null;
  const dir = tempDir('sentinel-redis-');
  afterEach(async () => {
    await queue?.close();
    await redis?.stop();
    dir.cleanup();
  });

  it('deliveries resume after Redis is killed and restarted, each arriving once with its id', async () => {
    redis = await startRedis({ dir: dir.dir });
    queue = testQueue({ lockDurationMs: 5_000, stalledIntervalMs: 2_000 }, redis.url);
    const arrived: { id: string; attempt: number }[] = [];
    const w = queue.work(
      async (d, attempt) => {
        await new Promise((r) => setTimeout(r, 50)); // a receiver taking a moment
        arrived.push({ id: d.id, attempt });
      },
      { pollMs: 20, backoffMs: 50 },
    );
    const all = Array.from({ length: 40 }, (_, i) => delivery(i));
    await queue.enqueue(all);
    await eventually(() => arrived.length >= 8);

    redis.signal('SIGKILL');
    await redis.exited;
    const atCrash = arrived.length;
    expect(atCrash).toBeLessThan(all.length - 10); // most are still queued when Redis dies
    await new Promise((r) => setTimeout(r, 1_000));
    expect(arrived.length - atCrash).toBeLessThanOrEqual(4); // only what was already running
    redis = await startRedis({ port: redis.port, dir: dir.dir });

    await eventually(() => arrived.length >= all.length, 30_000);
    await w.drained();
    const ids = arrived.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length); // once each
    expect([...ids].sort()).toEqual(all.map((d) => d.id).sort());
    for (const d of [all[0]!, all[39]!]) {
      expect((await queue.deliveriesFor(d.alertId))[0]).toMatchObject({ id: d.id, status: 'delivered' });
    }
    await w.stop();
  }, 60_000);
});
