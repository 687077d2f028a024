import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { dataFile, startPipeline, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { DEFAULT_PIPELINE } from '../../src/cli/common.ts';
import type { RawItem } from '../../src/core/types.ts';
import { eventually, tempDir } from '../helpers/tmp.ts';
import { History, expectExactlyOnce, hotlineRows, readHotline, readStore, report, sleep, undisturbed, writeCsv, type HotlineRow } from './helpers.ts';
import { lockDataFile, type Locker } from './locker.ts';

/**
 * The store unavailable: another process holds the data file's write lock while the running
 * pipeline has a batch to store. A lock shorter than busy_timeout (5 s) is waited out; a longer
 * one surfaces as SQLITE_BUSY on /healthz, the batch is retried from the same position, and in
 * both cases the position and the data move together, after the lock is gone.
 */

const log = pino({ level: 'silent' });
const SOURCE = 'hotline-12315';
let running: RunningPipeline | null = null;
let lockers: Locker[] = [];
afterEach(async () => {
  for (const l of lockers) if (l.proc.exitCode === null) l.proc.kill('SIGKILL');
  lockers = [];
  await running?.stop();
  running = null;
});

async function itemsOf(dir: string, batch: number, count: number): Promise<{ rows: HotlineRow[]; items: RawItem[] }> {
  const rows = hotlineRows(batch, count, 9000 + batch);
  const file = join(dir, `batch-${batch}.csv`);
  writeCsv(file, rows);
  return { rows, items: await readHotline(file, SOURCE) };
}

/** What a reader sees while the writer is locked out: committed positions and stored items. */
function snapshot(file: string): { offsets: Record<string, number>; items: number } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT grp, seq FROM bus_offsets').all() as { grp: string; seq: number }[];
    const { n } = db.prepare('SELECT count(*) AS n FROM items').get() as { n: number };
    return { offsets: Object.fromEntries(rows.map((r) => [r.grp, r.seq])), items: n };
  } finally {
    db.close();
  }
}

async function health(url: string): Promise<{ status: number; body: { status: string; engines: Record<string, string> } }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as { status: string; engines: Record<string, string> } };
}

describe.each([
  { holdMs: 2_000, outlasts: false },
  { holdMs: 7_000, outlasts: true },
])('data file locked by another process for $holdMs ms while a batch waits', ({ holdMs, outlasts }) => {
  it(`${outlasts ? 'SQLITE_BUSY shows on /healthz, the batch is retried' : 'busy_timeout waits it out'}; nothing committed meanwhile, nothing lost or doubled`, async () => {
    const t = tempDir('sentinel-faults-busy-');
    try {
      running = await startPipeline({ pipelineFile: DEFAULT_PIPELINE, roles: ['process', 'alerts', 'desk'], dataDir: t.dir, port: 0, log });
      const file = dataFile(t.dir);
      const history = new History();

      // before the fault: one batch accepted and stored
      const a = await itemsOf(t.dir, 1, 150);
      await running.ingest(a.items);
      history.accept(SOURCE, a.rows);
      await running.drained();
      const before = snapshot(file);
      expect(before.items).toBe(150);

      // another process publishes batch 2 and takes the lock before the pipeline can store it
      const b = await itemsOf(t.dir, 2, 150);
      const locker = lockDataFile(t.dir, file, holdMs, b.items);
      lockers.push(locker);
      await locker.said('published');
      history.accept(SOURCE, b.rows); // committed to the bus log: accepted
      await locker.said('locked');

      const seen: string[] = [];
      let released = false;
      void locker.said('released').then(() => (released = true));
      while (!released) {
        const h = await health(running.deskUrl!);
        if (!released) {
          // while the lock lasts: no position moved, no item stored
          const now = snapshot(file);
          expect(now.offsets).toEqual(before.offsets);
          expect(now.items).toBe(before.items);
          if (h.status === 503) seen.push(h.body.engines.bus ?? '');
        }
        await sleep(100);
      }
      expect(await locker.exited).toBe(0);

      if (outlasts) {
        expect(seen.length, 'the failure shows on /healthz while it lasts').toBeGreaterThan(0);
        expect(seen.join('\n')).toMatch(/consumer failing: database is locked/);
      } else {
        expect(seen, 'a lock shorter than busy_timeout is waited out, not reported').toEqual([]);
      }

      // after the fault: the retried batch goes through, health recovers
      await running.drained();
      const h = await health(running.deskUrl!);
      expect(h.status).toBe(200);
      expect(h.body.engines).toMatchObject({ store: 'ok', bus: 'ok' });
      await running.stop();
      running = null;
      const v = expectExactlyOnce(history, await readStore(file), `lock ${holdMs} ms`, await undisturbed([a.items, b.items]));
      report(`store locked ${holdMs} ms (BEGIN EXCLUSIVE from another process)`, 1, v, outlasts ? `SQLITE_BUSY on /healthz ${seen.length}×, retried, resumed` : 'waited out by busy_timeout');
    } finally {
      await running?.stop();
      running = null;
      t.cleanup();
    }
  }, 60_000);
});

// Regression test (bug found by this suite, fixed in src/notify/outbox.ts OutboxWorker.run): the claim (`UPDATE outbox SET next_attempt_at…`)
// runs outside any try. When another process holds the write lock past busy_timeout, it throws
// SQLITE_BUSY, the worker's loop promise rejects unhandled and Node ends the whole process
// (`sentinel run` dies with the desk and every stage). The same holds for `due.all` and for
// `retry.run`/`dead.run` inside the catch. Webhook deliveries should pause and resume, as the bus
// consumers do. Proven in a child process because an unhandled rejection would end the test run.
describe('outbox worker while the data file is locked past busy_timeout', () => {
  it('pauses and delivers after the lock instead of crashing the process', async () => {
    const t = tempDir('sentinel-faults-outbox-');
    try {
      const file = join(t.dir, 'sentinel.db');
      const script = join(t.dir, 'worker.mts');
      writeFileSync(
        script,
        [
          `import { openDatabase } from ${JSON.stringify(resolve('src/store/sqlite-db.ts'))};`,
          `import { OutboxQueue } from ${JSON.stringify(resolve('src/notify/outbox.ts'))};`,
          `const q = new OutboxQueue(openDatabase(${JSON.stringify(file)}));`,
          `await q.enqueue([{ id: 'a1.county.raised', alertId: 'a1', channel: 'county', payload: { event: 'raised', alertId: 'a1' } }]);`,
          `process.stdout.write('ready\\n');`,
          `await new Promise((r) => process.stdin.once('data', r));`,
          `await new Promise((done) => q.work(async (d) => { process.stdout.write('delivered ' + d.id + '\\n'); done(); }, { pollMs: 100 }));`,
          `await q.close();`,
          `process.exit(0);`,
        ].join('\n'),
      );
      const worker = spawn(process.execPath, ['--import', 'tsx', script], { cwd: resolve('.'), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      worker.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      worker.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const exited = new Promise<number | null>((res) => worker.on('exit', (code) => res(code)));
      try {
        await eventually(() => out.includes('ready'), 20_000);
        const locker = lockDataFile(t.dir, file, 7_000);
        lockers.push(locker);
        await locker.said('locked');
        worker.stdin.write('go\n');
        const code = await exited;
        expect(err, 'the worker process crashed').not.toMatch(/SQLITE_BUSY|database is locked/);
        expect(code).toBe(0);
        expect(out).toContain('delivered a1.county.raised');
      } finally {
        if (worker.exitCode === null) worker.kill('SIGKILL');
      }
    } finally {
      t.cleanup();
    }
  }, 40_000);
});
