import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteLogBus } from '../../src/bus/sqlite-log.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { commitWith } from '../../src/bus/bus.ts';
import { eventually, tempDir } from '../helpers/tmp.ts';

const CHILD = resolve('test/bus/unit-child.ts');

function runChild(file: string, mode: 'hang' | 'finish', until: RegExp): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`child never printed ${until}; got ${JSON.stringify(out)}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        child.on('exit', () => done());
      }
    });
  });
}

const state = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    const rows = (db.prepare('SELECT key FROM handled ORDER BY key').all() as { key: string }[]).map((r) => r.key);
    const pos = (db.prepare("SELECT seq FROM bus_offsets WHERE topic = 't' AND grp = 'g'").get() as { seq: number } | undefined)?.seq ?? 0;
    return { rows, pos };
  } finally {
    db.close();
  }
};

describe('embedded bus: a handler’s writes and its read position are one transaction', () => {
  it('kill -9 inside the unit leaves neither the writes nor the position; a finished unit leaves both', async () => {
    const t = tempDir();
    const file = join(t.dir, 'u.db');
    const db = openDatabase(file);
    db.exec('CREATE TABLE IF NOT EXISTS handled (key TEXT PRIMARY KEY)');
    await new SqliteLogBus(db, { ownsDb: false }).publish('t', [
      { key: 'a', value: 'x' },
      { key: 'b', value: 'y' },
    ]);
    db.close();

    await runChild(file, 'hang', /IN_UNIT/);
    expect(state(file)).toEqual({ rows: [], pos: 0 });

    await runChild(file, 'finish', /DONE/);
    const after = state(file);
    expect(after.rows).toEqual(['a', 'b']);
    expect(after.pos).toBeGreaterThan(0);
    t.cleanup();
  }, 60_000);

  it('a unit that fails rolls back its writes and the batch is delivered again', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'u.db'));
    db.exec('CREATE TABLE handled (key TEXT PRIMARY KEY)');
    const insert = db.prepare('INSERT OR REPLACE INTO handled (key) VALUES (?)');
    const bus = new SqliteLogBus(db, { pollMs: 20, ownsDb: false });
    await bus.publish('t', [{ key: 'a', value: 1 }]);
    let attempts = 0;
    const seenAfterFailure: string[][] = [];
    const c = bus.consume<number>('t', 'g', async (batch, ctx) => {
      attempts++;
      if (attempts === 2) seenAfterFailure.push((db.prepare('SELECT key FROM handled').all() as { key: string }[]).map((r) => r.key));
      await commitWith(ctx, () => {
        for (const r of batch) insert.run(r.key);
        if (attempts === 1) throw new Error('store refused the batch');
      });
    });
    await eventually(() => attempts >= 2, 10_000);
    await c.drained();
    expect(seenAfterFailure).toEqual([[]]);
    expect((db.prepare('SELECT key FROM handled').all() as { key: string }[]).map((r) => r.key)).toEqual(['a']);
    expect(await bus.lag('t', 'g')).toBe(0);
    await c.stop();
    db.close();
    t.cleanup();
  }, 30_000);

  it('a write by other code while a unit awaits is kept even when the unit fails (the batch is retried)', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'u.db'));
    db.exec('CREATE TABLE handled (key TEXT PRIMARY KEY); CREATE TABLE accepted (id TEXT PRIMARY KEY)');
    const bus = new SqliteLogBus(db, { pollMs: 20, ownsDb: false });
    await bus.publish('t', [{ key: 'a', value: 1 }]);
    let attempts = 0;
    const c = bus.consume<number>('t', 'g', async (batch, ctx) => {
      attempts++;
      await commitWith(ctx, async () => {
        db.prepare('INSERT OR REPLACE INTO handled (key) VALUES (?)').run(batch[0]!.key);
        // Meanwhile the push API accepts a complaint on the same handle and answers 202.
        await new Promise<void>((r) => setTimeout(() => {
          db.transaction(() => db.prepare("INSERT OR IGNORE INTO accepted (id) VALUES ('complaint-' || ?)").run(String(attempts)))();
          r();
        }, 20));
        if (attempts === 1) throw new Error('alerts stage failed');
      });
    });
    await eventually(() => attempts >= 2, 10_000);
    await c.drained();
    expect(db.prepare('SELECT id FROM accepted ORDER BY id').all()).toEqual([{ id: 'complaint-1' }, { id: 'complaint-2' }]);
    expect(await bus.lag('t', 'g')).toBe(0);
    await c.stop();
    db.close();
    t.cleanup();
  }, 30_000);
});
