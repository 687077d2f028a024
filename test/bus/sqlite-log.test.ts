import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { SqliteLogBus } from '../../src/bus/sqlite-log.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { commitWith } from '../../src/bus/bus.ts';
import { eventually, tempDir } from '../helpers/tmp.ts';

describe('embedded bus log retention', () => {
  it('drops records every group has committed, keeps what any group still needs', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'b.db'));
    const bus = new SqliteLogBus(db, { pollMs: 20 });
    await bus.publish('t', Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i })));
    expect(bus.compact('t')).toBe(0); // no group has consumed yet
    const fast = bus.consume<number>('t', 'fast', async () => {});
    await fast.drained();
    expect(bus.compact('t')).toBe(10);
    await bus.publish('t', [{ key: 'x', value: 10 }]);
    let slowSeen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = bus.consume<number>('t', 'slow', async (b) => {
      slowSeen.push(...b.map((r) => r.value));
      await gate;
    });
    await fast.drained();
    // 'slow' holds the last record back until it commits it
    await new Promise((r) => setTimeout(r, 100));
    expect(bus.compact('t')).toBe(0);
    expect(await bus.lag('t', 'slow')).toBe(1);
    release();
    await slow.drained();
    expect(slowSeen).toEqual([10]);
    expect(bus.compact('t')).toBe(1);
    expect((db.prepare('SELECT count(*) AS n FROM bus_log').get() as { n: number }).n).toBe(0);
    await bus.close();
    t.cleanup();
  });
});

describe('embedded bus: batches in flight at once (ConsumeOptions.concurrency)', () => {
  const setup = (records: number) => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'c.db'));
    db.exec('CREATE TABLE handled (key TEXT PRIMARY KEY, batch INTEGER)');
    const bus = new SqliteLogBus(db, { pollMs: 20, ownsDb: false });
    const position = () => (db.prepare("SELECT seq FROM bus_offsets WHERE topic = 't' AND grp = 'g'").get() as { seq: number } | undefined)?.seq ?? 0;
    const handled = () => (db.prepare('SELECT key FROM handled ORDER BY key').all() as { key: string }[]).map((r) => r.key);
    const insert = db.prepare('INSERT OR REPLACE INTO handled (key, batch) VALUES (?, ?)');
    const keys = Array.from({ length: records }, (_, i) => `k${String(i).padStart(3, '0')}`);
    const done = async () => {
      await bus.close();
      db.close();
      t.cleanup();
    };
    return { db, bus, position, handled, insert, keys, done };
  };

  it('hands the next batch out before the first committed, and commits positions in order', async () => {
    const s = setup(6);
    await s.bus.publish('t', s.keys.map((k) => ({ key: k, value: k })));
    const started: string[] = [];
    const gates: (() => void)[] = [];
    const c = s.bus.consume<string>(
      't',
      'g',
      async (batch, ctx) => {
        started.push(batch[0]!.key);
        // work before the commit (the process stage's scoring) waits on a gate per batch
        await new Promise<void>((r) => gates.push(r));
        await commitWith(ctx, () => {
          for (const r of batch) s.insert.run(r.key, Number(batch[0]!.offset));
        });
      },
      { batchSize: 2, concurrency: 2 },
    );
    await eventually(() => gates.length === 2);
    expect(started).toEqual(['k000', 'k002']);
    // The second batch finishes its work first: its commit waits for the first batch's.
    gates[1]!();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.position()).toBe(0);
    expect(s.handled()).toEqual([]);
    gates[0]!();
    await eventually(() => s.position() === 4);
    expect(s.handled()).toEqual(['k000', 'k001', 'k002', 'k003']);
    await eventually(() => gates.length === 3);
    gates[2]!();
    await c.drained();
    expect(s.position()).toBe(6);
    expect(s.handled()).toEqual(s.keys);
    expect(c.lastError()).toBeNull();
    await c.stop();
    await s.done();
  }, 20_000);

  it('a failed batch fails the batches after it; all are delivered again from the committed position, nothing is skipped', async () => {
    const s = setup(6);
    await s.bus.publish('t', s.keys.map((k) => ({ key: k, value: k })));
    const deliveries: string[] = [];
    let failFirst = true;
    const gates: (() => void)[] = [];
    const c = s.bus.consume<string>(
      't',
      'g',
      async (batch, ctx) => {
        deliveries.push(batch.map((r) => r.key).join(','));
        if (failFirst) await new Promise<void>((r) => gates.push(r));
        await commitWith(ctx, () => {
          for (const r of batch) s.insert.run(r.key, 0);
          if (failFirst && batch[0]!.key === 'k000') {
            failFirst = false;
            throw new Error('store refused the batch');
          }
        });
      },
      { batchSize: 2, concurrency: 2 },
    );
    await eventually(() => gates.length === 2);
    // The second batch is ready first; the first then fails inside its unit.
    gates[1]!();
    gates[0]!();
    await eventually(() => c.lastError() !== null);
    expect(c.lastError()!.message).toMatch(/refused/);
    // The failed unit rolled back and the second batch never committed (its commit waited for the first).
    expect(s.position()).toBe(0);
    expect(s.handled()).toEqual([]);
    await c.drained();
    expect(s.position()).toBe(6);
    expect(s.handled()).toEqual(s.keys);
    // both first batches were delivered again, in order
    expect(deliveries.slice(0, 2)).toEqual(['k000,k001', 'k002,k003']);
    expect(deliveries.slice(2)).toEqual(['k000,k001', 'k002,k003', 'k004,k005']);
    expect(c.lastError()).toBeNull();
    await c.stop();
    await s.done();
  }, 20_000);

  it('stop waits for every batch in flight', async () => {
    const s = setup(4);
    await s.bus.publish('t', s.keys.map((k) => ({ key: k, value: k })));
    const gates: (() => void)[] = [];
    const c = s.bus.consume<string>(
      't',
      'g',
      async (batch, ctx) => {
        await new Promise<void>((r) => gates.push(r));
        await commitWith(ctx, () => {
          for (const r of batch) s.insert.run(r.key, 0);
        });
      },
      { batchSize: 2, concurrency: 2 },
    );
    await eventually(() => gates.length === 2);
    const stopped = c.stop();
    gates.forEach((g) => g());
    await stopped;
    expect(s.position()).toBe(4);
    expect(s.handled()).toEqual(s.keys);
    await s.done();
  }, 20_000);
});

describe('embedded bus: values serialised elsewhere', () => {
  it('publishEncoded writes the JSON text as it is; consumers get the same values as from publish', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'e.db'));
    const bus = new SqliteLogBus(db, { pollMs: 20, ownsDb: false });
    const values = [{ a: 1, s: '食品安全', n: null }, { b: [1, 2, { c: '\u001f"' }] }];
    await bus.publish('t', [{ key: 'p', value: values[0] }]);
    await bus.publishEncoded('t', [{ key: 'e', json: JSON.stringify(values[1]) }]);
    // UTF-8 bytes (as a worker thread hands them over) are stored as the same TEXT
    await bus.publishEncoded('t', [{ key: 'u', json: Buffer.from(JSON.stringify(values[0]), 'utf8') }]);
    const stored = db.prepare('SELECT key, value, typeof(value) AS type FROM bus_log ORDER BY seq').all() as { key: string; value: string; type: string }[];
    expect(stored).toEqual([
      { key: 'p', value: JSON.stringify(values[0]), type: 'text' },
      { key: 'e', value: JSON.stringify(values[1]), type: 'text' },
      { key: 'u', value: JSON.stringify(values[0]), type: 'text' },
    ]);
    const seen: unknown[] = [];
    const c = bus.consume('t', 'g', async (batch) => {
      seen.push(...batch.map((r) => [r.key, r.value]));
    });
    await c.drained();
    expect(seen).toEqual([['p', values[0]], ['e', values[1]], ['u', values[0]]]);
    await bus.close();
    db.close();
    t.cleanup();
  });
});
