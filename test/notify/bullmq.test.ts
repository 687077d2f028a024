import { describe, it, expect, afterEach } from 'vitest';
import { BullmqQueue, parseRedisSpec } from '../../src/notify/bullmq.ts';
import { deliveryIdOf, jobIdFor } from '../../src/notify/bullmq/ids.ts';
import { backoffDelay } from '../../src/notify/bullmq/backoff.ts';
import { createQueue } from '../../src/notify/factory.ts';
import type { Delivery } from '../../src/notify/queue.ts';
import { eventually } from '../helpers/tmp.ts';
import { redisUrl, testQueue } from './bullmq-helpers.ts';

const delivery = (id: string, alertId = 'alert-3301-0007'): Delivery => ({
  id,
  alertId,
  channel: 'xihu-county',
  payload: { alert: { id: alertId, title: '西湖区某小学食堂学生呕吐', level: '橙' } },
});

describe('SENTINEL_QUEUE=redis://… parsing', () => {
  it('keeps the connection part for ioredis and takes the key prefix from ?prefix=', () => {
    expect(parseRedisSpec('redis://redis:6379')).toEqual({ url: 'redis://redis:6379', prefix: 'sentinel' });
    expect(parseRedisSpec('redis://:s3cret@redis:6379/2?prefix=fs-zj')).toEqual({ url: 'redis://:s3cret@redis:6379/2', prefix: 'fs-zj' });
  });

  it('names the variable and the broken part in its errors', () => {
    expect(() => parseRedisSpec('redis//redis')).toThrow(/SENTINEL_QUEUE=redis\/\/redis: not a URL/);
    expect(() => parseRedisSpec('http://redis:6379')).toThrow(/expected redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisSpec('redis://redis:6379/queues')).toThrow(/path '\/queues' must be a database number/);
    expect(() => parseRedisSpec('redis://redis:6379?family=6')).toThrow(/unknown option 'family'/);
    expect(() => parseRedisSpec('redis://redis:6379?prefix=a:b')).toThrow(/prefix 'a:b'/);
  });

  it('the factory builds a BullMQ queue without connecting, and rejects a bad spec', async () => {
    const q = await createQueue('redis://127.0.0.1:1', '/nonexistent/never-opened.db');
    expect(q).toBeInstanceOf(BullmqQueue);
    expect(q.kind).toBe('bullmq');
    await q.close();
    await expect(createQueue('redis://redis:6379/x', '/nonexistent/x.db')).rejects.toThrow(/SENTINEL_QUEUE=redis:\/\/redis:6379\/x/);
  });
});

describe('job ids', () => {
  it('never contain ":" nor look like an integer, and map back to the delivery id', () => {
    for (const id of ['alert:42:county:raised', '42', 'a%3Ab', 'alert-1.西湖区.raised', 'a b/c']) {
      const jid = jobIdFor(id);
      expect(jid).not.toContain(':');
      expect(Number.isInteger(Number(jid))).toBe(false);
      expect(deliveryIdOf(jid)).toBe(id);
    }
    // escaping is reversible, so ids that differ only in escaping stay apart
    expect(jobIdFor('a:b')).not.toBe(jobIdFor('a%3Ab'));
  });
});

describe('retry backoff', () => {
  it('doubles from backoffMs with up to 20 % jitter and stops growing at one hour', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 2_000, () => 0))).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(backoffDelay(3, 2_000, () => 1)).toBe(9_600);
    expect(backoffDelay(30, 2_000, () => 0.5)).toBe(3_600_000);
  });
});

describe.skipIf(!redisUrl)('BullMQ queue (redis-server)', () => {
  const open: BullmqQueue[] = [];
  const queue = (over?: Parameters<typeof testQueue>[0]) => {
    const q = testQueue(over);
    open.push(q);
    return q;
  };
  afterEach(async () => {
    for (const q of open.splice(0)) await q.close();
  });

  it('takes delivery ids with ":" and integer-like ids, and reports them under their own ids', async () => {
    const q = queue();
    const got: string[] = [];
    const w = q.work(async (d) => void got.push(d.id), { pollMs: 20 });
    await q.enqueue([delivery('alert:3301:0007.xihu-county.raised'), delivery('20260115')]);
    await eventually(() => got.length === 2);
    await w.drained();
    expect(got.sort()).toEqual(['20260115', 'alert:3301:0007.xihu-county.raised']);
    const states = await q.deliveriesFor('alert-3301-0007');
    expect(states.map((s) => [s.id, s.status]).sort()).toEqual([
      ['20260115', 'delivered'],
      ['alert:3301:0007.xihu-county.raised', 'delivered'],
    ]);
    expect(states[0]!.payload).toEqual(delivery('x').payload);
    await w.stop();
  });

  it('never shows a delivery as dead with its last attempt missing, though it fails while being read', async () => {
    const q = queue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let lastStarted = false;
    const w = q.work(
      async (_d, attempt) => {
        if (attempt === 3) {
          lastStarted = true;
          await gate;
        }
        throw new Error('HTTP 502 Bad Gateway');
      },
      { pollMs: 10, backoffMs: 5, maxAttempts: 3 },
    );
    await q.enqueue([delivery('alert-3301-0007.xihu-county.raised')]);
    await eventually(() => lastStarted);
    // The read takes the job's hash during the last attempt and the attempt fails before the read ends.
    const bull = (q as unknown as { queue: { getJob: (id: string) => Promise<unknown>; getJobState: (id: string) => Promise<string> } }).queue;
    const getJob = bull.getJob.bind(bull);
    bull.getJob = async (id) => {
      const job = await getJob(id);
      release();
      await eventually(async () => (await bull.getJobState(id)) === 'failed');
      return job;
    };
    const [during] = await q.deliveriesFor('alert-3301-0007');
    expect(during).toMatchObject({ status: 'pending', attempts: 2 });
    bull.getJob = getJob;
    expect((await q.deliveriesFor('alert-3301-0007'))[0]).toMatchObject({ status: 'dead', attempts: 3, lastError: 'HTTP 502 Bad Gateway' });
    await w.stop();
  });

  it('shows a delivery waiting for its retry as pending, with the error and when it is due', async () => {
    const q = queue();
    const w = q.work(async () => { throw new Error('HTTP 503 Service Unavailable'); }, { pollMs: 20, backoffMs: 60_000, maxAttempts: 5 });
    const before = Date.now();
    await q.enqueue([delivery('alert-3301-0007.xihu-county.raised')]);
    const [st] = await eventually(async () => {
      const s = await q.deliveriesFor('alert-3301-0007');
      return s[0]?.attempts === 1 ? s : null;
    });
    expect(st).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 503 Service Unavailable' });
    const due = Date.parse(st!.nextAttemptAt) - before;
    expect(due).toBeGreaterThanOrEqual(60_000);
    expect(due).toBeLessThanOrEqual(72_000 + 5_000);
    // a retry due in a minute is not "due now"
    await w.drained();
    await w.stop();
  });

  it('stop() gives up waiting on a hung delivery at its deadline; another worker resends it under the same id', async () => {
    const q = queue({ stopTimeoutMs: 300, lockDurationMs: 1_000, stalledIntervalMs: 500 });
    let hung = true;
    const seen: { id: string; attempt: number }[] = [];
    const w1 = q.work(async (d, attempt) => {
      seen.push({ id: d.id, attempt });
      if (hung) await new Promise(() => undefined); // a receiver that never answers
    });
    await q.enqueue([delivery('alert-3301-0007.xihu-county.raised')]);
    await eventually(() => seen.length === 1);
    const t0 = Date.now();
    await w1.stop();
    expect(Date.now() - t0).toBeLessThan(3_000);

    hung = false;
    const w2 = q.work(async (d, attempt) => void seen.push({ id: d.id, attempt }), { pollMs: 20 });
    await eventually(async () => (await q.deliveriesFor('alert-3301-0007'))[0]?.status === 'delivered', 15_000);
    expect(seen.map((s) => s.id)).toEqual(['alert-3301-0007.xihu-county.raised', 'alert-3301-0007.xihu-county.raised']);
    await w2.stop();
  });
});
