import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Bus, DeliveredRecord } from '../../src/bus/bus.ts';
import { eventually } from '../helpers/tmp.ts';

/**
 * The one suite every bus engine passes (embedded SQLite log now; Kafka runs the same).
 * `make` returns a fresh bus; `reopen` a second handle on the same underlying log, to play
 * a restarted process.
 */
export function busConformance(name: string, make: () => Promise<{ bus: Bus; reopen: () => Promise<Bus>; cleanup: () => Promise<void> }>) {
  describe(`bus conformance: ${name}`, () => {
    let ctx: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      ctx = await make();
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    it('delivers published records to a consumer group in publish order per key', async () => {
      const got: DeliveredRecord<{ n: number }>[] = [];
      const c = ctx.bus.consume<{ n: number }>('t.order', 'g', async (batch) => {
        got.push(...batch);
      });
      await ctx.bus.publish('t.order', [1, 2, 3, 4, 5].map((n) => ({ key: 'k1', value: { n } })));
      await eventually(() => got.length === 5);
      expect(got.map((r) => r.value.n)).toEqual([1, 2, 3, 4, 5]);
      expect(got.every((r) => r.key === 'k1' && r.topic === 't.order')).toBe(true);
      await c.stop();
    });

    it('gives every group its own position', async () => {
      const a: number[] = [];
      const b: number[] = [];
      await ctx.bus.publish('t.groups', [{ key: 'x', value: 1 }, { key: 'y', value: 2 }]);
      const ca = ctx.bus.consume<number>('t.groups', 'a', async (batch) => void a.push(...batch.map((r) => r.value)));
      const cb = ctx.bus.consume<number>('t.groups', 'b', async (batch) => void b.push(...batch.map((r) => r.value)));
      await eventually(() => a.length === 2 && b.length === 2);
      expect(a.sort()).toEqual([1, 2]);
      expect(b.sort()).toEqual([1, 2]);
      await ca.stop();
      await cb.stop();
    });

    it('commits only after the handler succeeded: a failing batch is delivered again', async () => {
      let calls = 0;
      const seen: number[] = [];
      const c = ctx.bus.consume<number>('t.retry', 'g', async (batch) => {
        calls++;
        if (calls === 1) throw new Error('store unavailable');
        seen.push(...batch.map((r) => r.value));
      });
      await ctx.bus.publish('t.retry', [{ key: 'a', value: 7 }]);
      await eventually(() => seen.length === 1, 15_000);
      expect(seen).toEqual([7]);
      expect(calls).toBeGreaterThanOrEqual(2);
      await c.stop();
    });

    it('resumes a group from its committed position after a restart, without redelivering', async () => {
      const first: number[] = [];
      const c1 = ctx.bus.consume<number>('t.resume', 'g', async (batch) => void first.push(...batch.map((r) => r.value)));
      await ctx.bus.publish('t.resume', [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
      await eventually(() => first.length === 2);
      await c1.drained();
      await c1.stop();
      const bus2 = await ctx.reopen();
      await bus2.publish('t.resume', [{ key: 'c', value: 3 }]);
      const second: number[] = [];
      const c2 = bus2.consume<number>('t.resume', 'g', async (batch) => void second.push(...batch.map((r) => r.value)));
      await eventually(() => second.length === 1);
      await c2.drained();
      expect(second).toEqual([3]);
      await c2.stop();
    });

    it('reports lag and resolves drained() once everything published is handled', async () => {
      await ctx.bus.publish('t.lag', Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i })));
      expect(await ctx.bus.lag('t.lag', 'g')).toBe(30);
      let n = 0;
      const c = ctx.bus.consume<number>('t.lag', 'g', async (batch) => void (n += batch.length), { batchSize: 7 });
      await c.drained();
      expect(n).toBe(30);
      expect(await ctx.bus.lag('t.lag', 'g')).toBe(0);
      await c.stop();
    });

    it('round-trips JSON values with Chinese text intact', async () => {
      const value = { title: '某小学食堂学生集体呕吐', n: 23, nested: { ok: true } };
      let got: unknown;
      const c = ctx.bus.consume('t.json', 'g', async (batch) => void (got = batch[0]!.value));
      await ctx.bus.publish('t.json', [{ key: 'i1', value }]);
      await eventually(() => got !== undefined);
      expect(got).toEqual(value);
      await c.stop();
    });
  });
}
