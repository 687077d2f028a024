import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Delivery, Queue } from '../../src/notify/queue.ts';
import { DeferDelivery, PermanentDeliveryError } from '../../src/notify/queue.ts';
import { eventually } from '../helpers/tmp.ts';

const d = (id: string, alertId = 'a1'): Delivery => ({ id, alertId, channel: 'county', payload: { alert: { id: alertId, title: '某幼儿园午餐后多名幼儿呕吐' } } });

/** The one suite every queue engine passes (embedded outbox now; BullMQ runs the same). */
export function queueConformance(name: string, make: () => Promise<{ queue: Queue; cleanup: () => Promise<void> }>) {
  describe(`queue conformance: ${name}`, () => {
    let queue: Queue;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ queue, cleanup } = await make());
    });
    afterEach(async () => cleanup());

    it('delivers each enqueued delivery once, with its payload', async () => {
      const got: Delivery[] = [];
      const w = queue.work(async (x) => void got.push(x), { pollMs: 20 });
      await queue.enqueue([d('d1'), d('d2', 'a2')]);
      await eventually(() => got.length === 2);
      await w.drained();
      expect(got.map((x) => x.id).sort()).toEqual(['d1', 'd2']);
      expect(got.find((x) => x.id === 'd1')!.payload).toEqual(d('d1').payload);
      expect((await queue.deliveriesFor('a1'))[0]).toMatchObject({ id: 'd1', status: 'delivered', attempts: 1 });
      await w.stop();
    });

    it('enqueueing the same delivery id twice sends it once', async () => {
      let n = 0;
      await queue.enqueue([d('d1')]);
      await queue.enqueue([d('d1'), d('d1')]);
      const w = queue.work(async () => void n++, { pollMs: 20 });
      await eventually(async () => (await queue.deliveriesFor('a1'))[0]?.status === 'delivered');
      await w.drained();
      expect(n).toBe(1);
      await w.stop();
    });

    it('retries a failing delivery with backoff, keeping its id, until it succeeds', async () => {
      const attempts: { id: string; attempt: number }[] = [];
      const w = queue.work(
        async (x, attempt) => {
          attempts.push({ id: x.id, attempt });
          if (attempt < 3) throw new Error('HTTP 503');
        },
        { pollMs: 10, backoffMs: 10, maxAttempts: 5 },
      );
      await queue.enqueue([d('d1')]);
      await eventually(async () => (await queue.deliveriesFor('a1'))[0]?.status === 'delivered');
      expect(attempts).toEqual([
        { id: 'd1', attempt: 1 },
        { id: 'd1', attempt: 2 },
        { id: 'd1', attempt: 3 },
      ]);
      await w.stop();
    });

    it('dead-letters after the last attempt and records the error', async () => {
      const w = queue.work(async () => { throw new Error('HTTP 502 Bad Gateway'); }, { pollMs: 10, backoffMs: 5, maxAttempts: 3 });
      await queue.enqueue([d('d1')]);
      const [st] = await eventually(async () => {
        const s = await queue.deliveriesFor('a1');
        return s[0]?.status === 'dead' ? s : null;
      });
      expect(st).toMatchObject({ status: 'dead', attempts: 3, lastError: 'HTTP 502 Bad Gateway' });
      await w.stop();
    });

    it('a permanent failure (a 4xx) is dead at once, never retried', async () => {
      let n = 0;
      const w = queue.work(async () => { n++; throw new PermanentDeliveryError('HTTP 400'); }, { pollMs: 10, backoffMs: 5, maxAttempts: 5 });
      await queue.enqueue([d('d1')]);
      await eventually(async () => (await queue.deliveriesFor('a1'))[0]?.status === 'dead');
      await w.drained();
      expect(n).toBe(1);
      await w.stop();
    });

    it('calls onDead once for a dead letter, and again (without resending) until the hook succeeds', async () => {
      let sends = 0;
      const hooks: { id: string; error: string }[] = [];
      const w = queue.work(
        async () => {
          sends++;
          throw new PermanentDeliveryError('HTTP 404 robot gone');
        },
        {
          pollMs: 10,
          backoffMs: 10,
          maxAttempts: 5,
          onDead: async (x, error) => {
            hooks.push({ id: x.id, error });
            if (hooks.length === 1) throw new Error('fallback store busy');
          },
        },
      );
      await queue.enqueue([d('d1')]);
      await eventually(() => hooks.length >= 2);
      await eventually(async () => (await queue.deliveriesFor('a1'))[0]?.status === 'dead');
      await w.drained();
      expect(sends).toBe(1);
      expect(hooks).toEqual([
        { id: 'd1', error: 'HTTP 404 robot gone' },
        { id: 'd1', error: 'HTTP 404 robot gone' },
      ]);
      expect((await queue.deliveriesFor('a1'))[0]).toMatchObject({ status: 'dead', lastError: expect.stringContaining('HTTP 404') });
      await w.stop();
    });

    it('deliveries deferred by a rate limit go out together in one digest, each marked with the digest id', async () => {
      let budget = 2;
      let until = 0;
      const singles: string[] = [];
      const digests: { channel: string; ids: string[]; digestId: string }[] = [];
      const w = queue.work(
        async (x) => {
          if (budget <= 0) throw new DeferDelivery('robot budget spent', new Date(until));
          budget--;
          singles.push(x.id);
        },
        {
          pollMs: 10,
          backoffMs: 10,
          digest: async (channel, list, digestId) => void digests.push({ channel, ids: list.map((x) => x.id).sort(), digestId }),
        },
      );
      until = Date.now() + 300;
      await queue.enqueue(['d1', 'd2', 'd3', 'd4', 'd5'].map((id) => d(id)));
      await eventually(async () => (await queue.deliveriesFor('a1')).filter((s) => s.status === 'delivered').length === 5);
      await w.drained();
      expect(singles).toHaveLength(2);
      expect(digests).toHaveLength(1);
      const dg = digests[0]!;
      expect(dg.channel).toBe('county');
      // every delivery went out exactly once: alone or in the digest
      expect([...singles, ...dg.ids].sort()).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
      const states = await queue.deliveriesFor('a1');
      for (const s of states) {
        if (dg.ids.includes(s.id)) expect(s).toMatchObject({ status: 'delivered', digestId: dg.digestId });
        else expect(s.digestId).toBeUndefined();
      }
      expect(dg.ids).not.toContain(dg.digestId);
      await w.stop();
    });

    it('counts deliveries per channel and status', async () => {
      const w = queue.work(async (x) => {
        if (x.channel === 'gone') throw new PermanentDeliveryError('HTTP 410');
      }, { pollMs: 10 });
      await queue.enqueue([d('d1'), d('d2'), { ...d('d3'), channel: 'gone' }]);
      await eventually(async () => (await queue.deliveriesFor('a1')).every((s) => s.status !== 'pending'));
      await w.drained();
      expect(await queue.channelCounts!()).toEqual({
        county: { delivered: 2, pending: 0, dead: 0 },
        gone: { delivered: 0, pending: 0, dead: 1 },
      });
      await w.stop();
    });
  });
}
