import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pino from 'pino';
import { dataFile, startPipeline, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { DEFAULT_PIPELINE } from '../../src/cli/common.ts';
import { acquireDatabase, releaseDatabase, type Db } from '../../src/store/sqlite-db.ts';
import type { RawItem } from '../../src/core/types.ts';
import { TOPICS } from '../../src/bus/bus.ts';
import { tempDir } from '../helpers/tmp.ts';
import { History, expectExactlyOnce, hotlineRows, readHotline, readStore, report, sleep, undisturbed, writeCsv, type HotlineRow } from './helpers.ts';

/**
 * The disk full while ingesting. Simulated with `PRAGMA max_page_count` on the pipeline's own
 * connection (acquireDatabase hands out the one shared handle): SQLite then fails exactly as on a
 * full disk, with SQLITE_FULL, at the next page it cannot allocate. No mount, no root needed.
 */

const log = pino({ level: 'silent' });
const SOURCE = 'hotline-12315';
let running: RunningPipeline | null = null;
let db: Db | null = null;
afterEach(async () => {
  if (db) releaseDatabase(db);
  db = null;
  await running?.stop();
  running = null;
});

async function batch(dir: string, n: number, count: number): Promise<{ rows: HotlineRow[]; items: RawItem[] }> {
  const rows = hotlineRows(n, count, 7000 + n);
  const file = join(dir, `batch-${n}.csv`);
  writeCsv(file, rows);
  return { rows, items: await readHotline(file, SOURCE) };
}

const pages = (d: Db) => Number(d.pragma('page_count', { simple: true }));

async function health(url: string): Promise<{ status: number; engines: Record<string, string> }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, engines: ((await res.json()) as { engines: Record<string, string> }).engines };
}

describe('disk full while ingesting (max_page_count)', () => {
  it('the sender gets SQLITE_FULL, the consumer pauses on it, nothing is corrupted, and everything resumes when space returns', async () => {
    const t = tempDir('sentinel-faults-full-');
    try {
      running = await startPipeline({ pipelineFile: DEFAULT_PIPELINE, roles: ['process', 'alerts', 'desk'], dataDir: t.dir, port: 0, log });
      db = acquireDatabase(dataFile(t.dir));
      const history = new History();

      const a = await batch(t.dir, 1, 120);
      await running.ingest(a.items);
      history.accept(SOURCE, a.rows);
      await running.drained();

      // 1. the disk fills up: a sender's publish fails with a clear error and is not acknowledged
      const b = await batch(t.dir, 2, 200);
      db.pragma(`max_page_count = ${pages(db) + 1}`);
      const refused = await running.ingest(b.items).then(
        () => null,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(refused?.code).toBe('SQLITE_FULL');
      expect(refused?.message).toMatch(/database or disk is full/);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

      // 2. space returns: the same sender re-sends and the raw topic accepts (publish commits
      // synchronously); 3. the disk fills again before the stages ran: the consumer pauses
      db.pragma('max_page_count = 1073741823');
      const published = running.bus.publish(TOPICS.raw, b.items.map((it) => ({ key: it.id, value: it })));
      db.pragma(`max_page_count = ${pages(db) + 1}`);
      await published;
      history.accept(SOURCE, b.rows);
      let seen: string | undefined;
      for (let i = 0; i < 40 && !seen; i++) {
        await sleep(100);
        const h = await health(running.deskUrl!);
        if (h.status === 503 && /full/.test(h.engines.bus ?? '')) seen = h.engines.bus;
      }
      expect(seen, 'the failure shows on /healthz').toMatch(/consumer failing: database or disk is full/);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((await running.store.stats()).items.total, 'nothing of batch 2 stored while full').toBe(120);

      // 4. space returns for good: the paused batch is retried from its position and stored once
      db.pragma('max_page_count = 1073741823');
      await running.drained();
      const h = await health(running.deskUrl!);
      expect(h.status).toBe(200);
      await running.stop();
      running = null;
      releaseDatabase(db);
      db = null;

      const file = dataFile(t.dir);
      const v = expectExactlyOnce(history, await readStore(file), 'disk full', await undisturbed([a.items, b.items]));
      report('disk full (max_page_count) on publish and on store', 1, v, 'SQLITE_FULL to sender and on /healthz; integrity ok; resumed');
    } finally {
      t.cleanup();
    }
  }, 60_000);
});
