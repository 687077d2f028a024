// The background checkpointer of one SQLite file (see checkpointInBackground in sqlite-db.ts).
// Plain JavaScript: it needs only better-sqlite3, so the thread starts without the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, busyMs, idleMs } = workerData;
const db = new Database(path, { fileMustExist: true });
// A checkpoint fsyncs the database file before the log may be reused: without that, a power cut
// after the log restarted could lose pages that were only in the file's cache. Read back, as the
// main connection's setting is.
db.pragma('synchronous = FULL');
if (db.pragma('synchronous', { simple: true }) !== 2) throw new Error(`SQLite at ${path} refused synchronous=FULL for checkpoints`);
// Never wait for a lock here: a checkpoint that cannot run now runs at the next tick.
db.pragma('busy_timeout = 0');

let timer = null;
let lastLog = -1;
const tick = () => {
  let active = true;
  try {
    // PASSIVE copies what it can without blocking any writer or reader.
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    active = r.busy !== 0 || r.checkpointed < r.log || r.log !== lastLog;
    lastLog = r.log;
  } catch {
    // busy or locked: try again soon
  }
  // Soon again while the log is being written, rarely while it is quiet.
  timer = setTimeout(tick, active ? busyMs : idleMs);
};
timer = setTimeout(tick, busyMs);

parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
