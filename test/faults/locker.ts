import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TOPICS } from '../../src/bus/bus.ts';
import type { RawItem } from '../../src/core/types.ts';

/**
 * A second process on the data file, as a backup tool, a `sqlite3` shell left open or a second
 * `sentinel ingest` would be. It can publish records to the raw topic first (as `sentinel ingest`
 * from another process does: one transaction on the bus log), then holds `BEGIN EXCLUSIVE` for a
 * while. A process and not a connection in the test's own thread, because better-sqlite3 waits
 * for a lock synchronously: a lock held on the waiting thread could never be released.
 */
const SCRIPT = `
const Database = require(process.argv[2]);
const [file, recordsFile, holdMs] = process.argv.slice(3);
const db = new Database(file, { timeout: 5000 });
if (recordsFile) {
  const records = JSON.parse(require('node:fs').readFileSync(recordsFile, 'utf8'));
  const ins = db.prepare('INSERT INTO bus_log (topic, key, value, at) VALUES (?, ?, ?, ?)');
  db.transaction(() => { for (const r of records) ins.run(r.topic, r.key, JSON.stringify(r.value), Date.now()); })();
  process.stdout.write('published ' + records.length + '\\n');
}
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); }, Number(holdMs));
`;

export interface Locker {
  proc: ChildProcess;
  /** resolves when the child printed `word` */
  said(word: 'published' | 'locked' | 'released'): Promise<void>;
  exited: Promise<number | null>;
}

export function lockDataFile(dir: string, dbFile: string, holdMs: number, publish: RawItem[] = []): Locker {
  const script = join(dir, 'locker.cjs');
  writeFileSync(script, SCRIPT);
  let recordsFile = '';
  if (publish.length) {
    recordsFile = join(dir, `records-${Date.now()}.json`);
    writeFileSync(recordsFile, JSON.stringify(publish.map((it) => ({ topic: TOPICS.raw, key: it.id, value: it }))));
  }
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const proc = spawn(process.execPath, [script, sqlite, dbFile, recordsFile, String(holdMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiting: (() => void)[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    waiting.splice(0).forEach((w) => w());
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => (waiting.splice(0).forEach((w) => w()), res(code))));
  const said = (word: string) =>
    new Promise<void>((res, rej) => {
      const check = () => {
        if (out.includes(word)) res();
        else if (proc.exitCode !== null) rej(new Error(`locker exited before '${word}': ${err}`));
        else waiting.push(check);
      };
      check();
    });
  return { proc, said, exited };
}
