import { describe, it, expect, afterEach } from 'vitest';
import kafkajs from 'kafkajs';
import type { KafkaBus, DeadLetter } from '../../src/bus/kafka.ts';
import { eventually } from '../helpers/tmp.ts';
import { kafkaBrokers, testBus, uniquePrefix } from './kafka-helpers.ts';

interface Item {
  id: string;
  title: string;
  regionCode?: string;
}

const item = (n: number, extra: Partial<Item> = {}): Item => ({ id: `item-${n}`, title: `某县市场监管局抽检通报 第${n}批`, regionCode: '330102', ...extra });

/** A gate a handler can wait on, opened by the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe.skipIf(!kafkaBrokers)('Kafka bus behaviour (mock cluster)', () => {
  const buses: KafkaBus[] = [];
  const bus = (prefix: string, over?: Parameters<typeof testBus>[1]) => {
    const b = testBus(prefix, over);
    buses.push(b);
    return b;
  };
  afterEach(async () => {
    for (const b of buses.splice(0)) await b.close();
  });

  /** Reads the dead-letter topic back through the bus itself. */
  async function deadLetters(b: KafkaBus, atLeast: number): Promise<DeadLetter[]> {
    const got: DeadLetter[] = [];
    const c = b.consume<DeadLetter>('dlq', 'inspect', async (batch) => void got.push(...batch.map((r) => r.value)));
    await eventually(() => got.length >= atLeast, 15_000);
    await c.stop();
    return got;
  }

  it('sends a poison record to the DLQ with its error after 5 tries and goes on with later records', async () => {
    const b = bus(uniquePrefix(), { handlerRetry: { attempts: 5, initialMs: 10, maxMs: 50 } });
    const tries = new Map<string, number>();
    const done: string[] = [];
    const c = b.consume<Item>(
      'items.scored',
      'alerts',
      async (batch) => {
        for (const r of batch) {
          tries.set(r.value.title, (tries.get(r.value.title) ?? 0) + 1);
          if (!r.value.regionCode) throw new Error(`缺少区域代码: ${r.key}`);
          done.push(r.value.title);
        }
      },
      { batchSize: 1 },
    );
    // One key, so all three sit in one partition behind each other; the third is the same
    // item republished with its region fixed.
    await b.publish<Item>('items.scored', [
      { key: 'item-1', value: item(1) },
      { key: 'item-1', value: item(1, { title: '损坏的版本', regionCode: undefined }) },
      { key: 'item-1', value: item(1, { title: '修正的版本' }) },
    ]);
    await eventually(() => done.includes('修正的版本'), 15_000);
    await c.drained();
    expect(done).toEqual([item(1).title, '修正的版本']);
    expect(tries.get('损坏的版本')).toBe(5);
    expect(await b.lag('items.scored', 'alerts')).toBe(0);

    const [letter] = await deadLetters(b, 1);
    expect(letter).toMatchObject({
      topic: 'items.scored',
      group: 'alerts',
      key: 'item-1',
      value: { title: '损坏的版本' },
      attempts: 5,
      error: { name: 'Error', message: '缺少区域代码: item-1' },
    });
    await c.stop();
  });

  it('a poison record does not take the good records of its sub-batch to the DLQ', async () => {
    const b = bus(uniquePrefix(), { handlerRetry: { attempts: 3, initialMs: 10, maxMs: 50 } });
    const stored = new Set<string>();
    const c = b.consume<Item>(
      'items.scored',
      'alerts',
      async (batch) => {
        if (batch.some((r) => !r.value.regionCode)) throw new Error('批次中有记录缺少区域代码');
        batch.forEach((r) => stored.add(r.value.id));
      },
      { batchSize: 10 },
    );
    await b.publish<Item>('items.scored', [
      ...[1, 2, 3].map((n) => ({ key: 'feed-a', value: item(n) })),
      { key: 'feed-a', value: item(4, { regionCode: undefined }) },
      ...[5, 6].map((n) => ({ key: 'feed-a', value: item(n) })),
    ]);
    await eventually(() => stored.size === 5, 15_000);
    await c.drained();
    expect([...stored].sort()).toEqual(['item-1', 'item-2', 'item-3', 'item-5', 'item-6']);
    const letters = await deadLetters(b, 1);
    expect(letters.map((l) => (l.value as Item).id)).toEqual(['item-4']);
    // three calls with the whole sub-batch, then one on its own
    expect(letters[0]!.attempts).toBe(4);
    await c.stop();
  });

  it('a record another producer wrote that is not an envelope goes to the DLQ at once, raw text kept', async () => {
    const prefix = uniquePrefix();
    const b = bus(prefix);
    const foreign = new kafkajs.Kafka({ brokers: kafkaBrokers!.split(','), logLevel: kafkajs.logLevel.NOTHING }).producer({
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await foreign.connect();
    await foreign.send({ topic: `${prefix}items.raw`, messages: [{ key: 'x', value: '某局通报（纯文本）' }] });
    await foreign.disconnect();
    await b.publish<Item>('items.raw', [{ key: 'x', value: item(7) }]);
    let calls = 0;
    const seen: string[] = [];
    const c = b.consume<Item>('items.raw', 'process', async (batch) => {
      calls++;
      seen.push(...batch.map((r) => r.value.id));
    });
    await eventually(() => seen.length === 1, 15_000);
    await c.drained();
    expect(seen).toEqual(['item-7']);
    expect(calls).toBe(1);
    const [letter] = await deadLetters(b, 1);
    expect(letter).toMatchObject({ topic: 'items.raw', key: 'x', attempts: 0, raw: '某局通报（纯文本）', error: { name: 'MalformedRecordError' } });
  });

  it('stop() lets the running sub-batch finish and commits it; a restart resumes right after it', async () => {
    const prefix = uniquePrefix();
    const b1 = bus(prefix);
    await b1.publish<Item>('items.raw', Array.from({ length: 20 }, (_, n) => ({ key: 'feed-a', value: item(n) })));
    const first: number[] = [];
    const g = gate();
    const second = gate();
    let calls = 0;
    const c1 = b1.consume<Item>(
      'items.raw',
      'process',
      async (batch) => {
        if (++calls === 2) {
          second.open();
          await g.opened;
        }
        first.push(...batch.map((r) => Number(r.value.id.split('-')[1])));
      },
      { batchSize: 5 },
    );
    await second.opened;
    let stopped = false;
    const stopping = c1.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // waits for the running sub-batch
    g.open();
    await stopping;
    expect(first).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await b1.lag('items.raw', 'process')).toBe(10);

    const b2 = bus(prefix);
    const after: number[] = [];
    const c2 = b2.consume<Item>('items.raw', 'process', async (batch) => void after.push(...batch.map((r) => Number(r.value.id.split('-')[1]))));
    await eventually(() => after.length >= 10, 15_000);
    await c2.drained();
    expect(after).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('a sub-batch that fails while stopping is not committed, so only it is delivered twice', async () => {
    const prefix = uniquePrefix();
    const b1 = bus(prefix);
    await b1.publish<Item>('items.raw', Array.from({ length: 12 }, (_, n) => ({ key: 'feed-a', value: item(n) })));
    const first: number[] = [];
    const g = gate();
    const second = gate();
    let calls = 0;
    const c1 = b1.consume<Item>(
      'items.raw',
      'process',
      async (batch) => {
        const ns = batch.map((r) => Number(r.value.id.split('-')[1]));
        if (++calls === 2) {
          second.open();
          await g.opened;
          throw new Error('存储不可用');
        }
        first.push(...ns);
      },
      { batchSize: 4 },
    );
    await second.opened;
    const stopping = c1.stop();
    g.open();
    await stopping;
    expect(first).toEqual([0, 1, 2, 3]);
    expect(await b1.lag('items.raw', 'process')).toBe(8);

    const b2 = bus(prefix);
    const after: number[] = [];
    const c2 = b2.consume<Item>('items.raw', 'process', async (batch) => void after.push(...batch.map((r) => Number(r.value.id.split('-')[1]))));
    await eventually(() => after.length >= 8, 15_000);
    await c2.drained();
    expect(after).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a second member joining the group mid-stream takes over partitions and no record is lost', async () => {
    const prefix = uniquePrefix();
    const b1 = bus(prefix);
    const b2 = bus(prefix);
    const seenBy = { a: new Set<string>(), b: new Set<string>() };
    const partitionsOf = { a: new Set<string>(), b: new Set<string>() };
    const handler = (who: 'a' | 'b') => async (batch: { key: string; offset: string }[]) => {
      await new Promise((r) => setTimeout(r, 10));
      for (const r of batch) {
        seenBy[who].add(r.key);
        partitionsOf[who].add(r.offset.split(':')[0]!);
      }
    };
    const publish = (from: number, to: number) =>
      b1.publish<Item>('items.raw', Array.from({ length: to - from }, (_, i) => ({ key: `item-${from + i}`, value: item(from + i) })));

    await publish(0, 40);
    const ca = b1.consume<Item>('items.raw', 'process', handler('a'), { batchSize: 5 });
    await eventually(() => seenBy.a.size > 0, 15_000);
    const cb = b2.consume<Item>('items.raw', 'process', handler('b'), { batchSize: 5 });
    await publish(40, 80);
    // B gets partitions after the rebalance; records published from now on reach both.
    await eventually(() => seenBy.b.size > 0, 20_000);
    await publish(80, 120);
    await eventually(() => new Set([...seenBy.a, ...seenBy.b]).size === 120, 20_000);
    await ca.drained();
    await cb.drained();

    // the mock cluster auto-creates topics with 4 partitions
    expect(new Set([...partitionsOf.a, ...partitionsOf.b]).size).toBe(4);
    expect(seenBy.b.size).toBeGreaterThan(0);
    const all = new Set([...seenBy.a, ...seenBy.b]);
    expect(Array.from({ length: 120 }, (_, n) => `item-${n}`).every((k) => all.has(k))).toBe(true);
    expect(await b1.lag('items.raw', 'process')).toBe(0);
    await ca.stop();
    await cb.stop();
  });
});
