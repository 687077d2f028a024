import type { Db } from '../store/sqlite-db.ts';

/**
 * One unit of work on the shared SQLite handle: a handler's writes and its consumer's read
 * position in one transaction, so a crash (kill -9, power cut) leaves both or neither.
 *
 * better-sqlite3 is synchronous and the handle is shared by every stage of the process, so units
 * are serialised by a per-handle queue, and a write by other code while a unit awaits (the desk,
 * the push API) joins the unit as a savepoint of it. Hence the failure rule: when nothing else ran
 * in between (no macrotask, checked with setImmediate), a failed unit rolls back whole; when
 * something did, its writes were already answered as accepted, so the unit commits what it has
 * *without* the read position: the batch is retried, and every write being an upsert by id makes
 * the retry complete the partial work instead of duplicating it.
 */
const queues = new WeakMap<Db, Promise<unknown>>();

/** Runs `fn` as one unit; `fn` must not start another unit on the same handle (it would wait for itself). */
export function withUnit<R>(db: Db, fn: () => Promise<R>): Promise<R> {
  const previous = queues.get(db) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => unit(db, fn));
  queues.set(db, run);
  return run;
}

async function unit<R>(db: Db, fn: () => Promise<R>): Promise<R> {
  let interleaved = false;
  const probe = setImmediate(() => (interleaved = true));
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = await fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    if (db.inTransaction) {
      try {
        db.exec(interleaved ? 'COMMIT' : 'ROLLBACK');
      } catch {
        // A commit the disk refuses (SQLITE_FULL) cannot keep anything: roll back.
        if (db.inTransaction) db.exec('ROLLBACK');
      }
    }
    throw err;
  } finally {
    clearImmediate(probe);
  }
}
