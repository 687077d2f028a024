import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';

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
      stopCheckpoints(db);
      db.close();
    }
    return;
  }
  stopCheckpoints(db);
  if (db.open) db.close();
}

/** SQLite's default: the connection that commits past this many log pages checkpoints them. */
const AUTO_CHECKPOINT_PAGES = 1000;
/**
 * With a background checkpointer, the shared connection checkpoints by itself only past this
 * many pages (16 MB at 4 KB pages): a backstop that bounds the log should the thread fall behind.
 */
const BACKSTOP_CHECKPOINT_PAGES = 4000;

const checkpointers = new Map<Db, Worker>();
/** Threads told to stop whose connection may still be open. */
const stopping = new Set<Promise<void>>();

/**
 * Runs this file's WAL checkpoints on a thread of their own, with its own connection. A
 * checkpoint copies committed pages from the log into the database file and fsyncs it; run by
 * SQLite inside whichever COMMIT crossed 1,000 log pages, it held the pipeline's event loop for
 * about a third of its time in COMMIT (bench figure 3). Durability is unchanged: every commit is
 * still fsynced to the log by the committing connection (synchronous=FULL), and the checkpointer
 * fsyncs the file before the log may be reused. Its checkpoints are PASSIVE, so they never block
 * a writer or a reader. Stops with the handle's last release; if the thread cannot start or
 * dies, the connection checkpoints by itself again as before.
 */
export function checkpointInBackground(db: Db, opts: { busyMs?: number; idleMs?: number } = {}): void {
  if (checkpointers.has(db) || db.memory || !db.open) return;
  const worker = new Worker(new URL('./sqlite-checkpointer.js', import.meta.url), {
    workerData: { path: db.name, busyMs: opts.busyMs ?? 25, idleMs: opts.idleMs ?? 500 },
    // a connection and a timer: a small heap is plenty
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
  });
  worker.unref();
  checkpointers.set(db, worker);
  const fallBack = () => {
    if (checkpointers.get(db) !== worker) return;
    checkpointers.delete(db);
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  };
  // The backstop only once the thread is running: until then the connection keeps checkpointing.
  worker.once('message', () => {
    if (checkpointers.get(db) === worker && db.open) db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  });
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
}

function stopCheckpoints(db: Db): void {
  const worker = checkpointers.get(db);
  if (!worker) return;
  checkpointers.delete(db);
  if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  stopping.add(exited);
  void exited.then(() => stopping.delete(exited));
  // Keeps the event loop alive until the thread has closed: unreferenced, a process whose work
  // is done would end while checkpointersStopped() still waits (exit code 13, unsettled await).
  worker.ref();
  worker.postMessage('stop');
}

/**
 * Resolves once every checkpointer told to stop has closed its connection. The thread's close is
 * the file's last, so it is the one that removes the -wal and -shm files: whoever stops a
 * pipeline and then reads, copies or deletes its data directory waits for this first.
 */
export async function checkpointersStopped(): Promise<void> {
  await Promise.all([...stopping]);
}

/** Whether checkpointInBackground's thread is running for this handle (tests). */
export function checkpointsInBackground(db: Db): boolean {
  return checkpointers.has(db);
}
