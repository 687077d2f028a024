import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireDatabase, checkpointersStopped, checkpointInBackground, checkpointsInBackground, openDatabase, releaseDatabase } from '../../src/store/sqlite-db.ts';
import { eventually, tempDir } from '../helpers/tmp.ts';

const autoCheckpoint = (db: ReturnType<typeof openDatabase>) => db.pragma('wal_autocheckpoint', { simple: true });

describe('background checkpoints', () => {
  it('a thread of its own copies the log into the file while the connection only keeps a backstop', async () => {
    const t = tempDir();
    const file = join(t.dir, 'c.db');
    const db = acquireDatabase(file);
    db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    checkpointInBackground(db, { busyMs: 10, idleMs: 50 });
    await eventually(() => autoCheckpoint(db) === 4000);
    const before = statSync(file).size;
    // ~2,500 pages in 10 commits: below the backstop, so only the thread checkpoints them.
    const insert = db.prepare('INSERT INTO blobs (v) VALUES (?)');
    const text = '食'.repeat(3000);
    for (let c = 0; c < 10; c++) db.transaction(() => { for (let i = 0; i < 100; i++) insert.run(text); })();
    await eventually(() => statSync(file).size > before + 8_000_000);
    expect(checkpointsInBackground(db)).toBe(true);
    // every committed row is readable, from the file or the log
    expect(db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(1000);
    releaseDatabase(db);
    expect(checkpointsInBackground(db)).toBe(false);
    const again = openDatabase(file);
    expect(again.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(1000);
    again.close();
    t.cleanup();
  }, 30_000);

  it('the last release stops the thread and gives the connection its own checkpoints back', async () => {
    const t = tempDir();
    const file = join(t.dir, 'r.db');
    const db = acquireDatabase(file);
    const other = acquireDatabase(file);
    expect(other).toBe(db);
    checkpointInBackground(db, { busyMs: 10, idleMs: 50 });
    await eventually(() => autoCheckpoint(db) === 4000);
    releaseDatabase(other);
    expect(checkpointsInBackground(db)).toBe(true);
    releaseDatabase(db);
    expect(checkpointsInBackground(db)).toBe(false);
    expect(db.open).toBe(false);
    t.cleanup();
  }, 30_000);

  it('once the stopped threads have closed, the data directory holds the file alone and nothing more changes', async () => {
    // The thread's connection is the file's last: its close removes the -wal and -shm files. A
    // sweep of the directory right after stopping once read a -shm that vanished under it.
    const t = tempDir();
    const file = join(t.dir, 's.db');
    const db = acquireDatabase(file);
    checkpointInBackground(db, { busyMs: 10, idleMs: 50 });
    await eventually(() => autoCheckpoint(db) === 4000);
    db.exec('CREATE TABLE notes (v TEXT)');
    db.prepare('INSERT INTO notes (v) VALUES (?)').run('过期冷链肉');
    releaseDatabase(db);
    await checkpointersStopped();
    expect(readdirSync(t.dir)).toEqual(['s.db']);
    expect(existsSync(`${file}-shm`)).toBe(false);
    const again = openDatabase(file);
    expect(again.prepare('SELECT v FROM notes').pluck().get()).toBe('过期冷链肉');
    again.close();
    t.cleanup();
  }, 30_000);

  it('a thread that cannot open the file leaves the connection checkpointing by itself', async () => {
    const t = tempDir();
    const file = join(t.dir, 'gone.db');
    const db = openDatabase(file);
    unlinkSync(file);
    checkpointInBackground(db, { busyMs: 10, idleMs: 50 });
    await eventually(() => !checkpointsInBackground(db));
    expect(autoCheckpoint(db)).toBe(1000);
    releaseDatabase(db);
    t.cleanup();
  }, 30_000);

  it('an in-memory database has no log to checkpoint', () => {
    const db = openDatabase(':memory:');
    checkpointInBackground(db);
    expect(checkpointsInBackground(db)).toBe(false);
    db.close();
  });
});
