import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { SqliteLogBus } from '../../src/bus/sqlite-log.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { tempDir } from '../helpers/tmp.ts';

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
