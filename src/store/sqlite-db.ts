import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * Opens the embedded engines' one SQLite file. WAL lets the desk read while the pipeline
 * writes. `synchronous=FULL`: every committed transaction (an accepted complaint, a bus
 * offset) survives a power cut as well as a crash, at one fsync per commit — affordable because
 * the stages write in batches. The setting is read back, so a build of SQLite that ignores it
 * fails loudly at start instead of silently weakening durability.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const mode = db.pragma('journal_mode', { simple: true });
  const sync = db.pragma('synchronous', { simple: true });
  if (path !== ':memory:' && String(mode).toLowerCase() !== 'wal') {
    throw new Error(`SQLite at ${path} refused WAL mode (journal_mode=${mode})`);
  }
  if (sync !== 2) throw new Error(`SQLite at ${path} refused synchronous=FULL (got ${sync})`);
  return db;
}

/** One Db per path per process: the bus, store and outbox share the file and its handle. */
const shared = new Map<string, { db: Db; refs: number }>();

export function acquireDatabase(path: string): Db {
  const hit = shared.get(path);
  if (hit) {
    hit.refs++;
    return hit.db;
  }
  const db = openDatabase(path);
  shared.set(path, { db, refs: 1 });
  return db;
}

export function releaseDatabase(db: Db): void {
  for (const [path, entry] of shared) {
    if (entry.db !== db) continue;
    if (--entry.refs === 0) {
      shared.delete(path);
      db.close();
    }
    return;
  }
  if (db.open) db.close();
}
