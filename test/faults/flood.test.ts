import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { startPipeline, dataFile, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { startDesk } from '../../src/desk/server.ts';
import { Accounts } from '../../src/auth/accounts.ts';
import { acquireDatabase, releaseDatabase } from '../../src/store/sqlite-db.ts';
import { itemId } from '../../src/core/ids.ts';
import { tempDir } from '../helpers/tmp.ts';
import { History, ROUNDS, RULES, hotlineRows, judge, readStore, report, rng, sleep, type HotlineRow, type Verdict } from './helpers.ts';

/**
 * Floods of the push API (POST /api/v1/complaints). Jepsen-style: every record the desk
 * acknowledged with a 2xx is written down, and at the end the store must hold each of them exactly
 * once with the text that was sent, and nothing the desk refused or never saw. A flood is answered
 * with 429 and an honest Retry-After; a sender that waits that long and retries gets everything
 * in, even when some answers were lost on the way (requests aborted by the client), and one
 * sender's flood does not lock out another.
 */

const log = pino({ level: 'silent' });

interface PushReply {
  status: number;
  retryAfter: number | null;
  body: { records?: { 登记编号: string; id: string; duplicate: boolean }[]; retryAfterSeconds?: number } | null;
}

/** Runs `tasks` with at most `n` in flight. */
async function pool<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

function pipelineFile(dir: string): string {
  mkdirSync(join(dir, 'drops'), { recursive: true });
  const file = join(dir, 'pipeline.yaml');
  // the drop folder stays empty: every item in the store came through the push API
  writeFileSync(file, `name: 推送洪泛测试\nrules: ${RULES}\nsources:\n  - id: drops\n    type: hotline\n    path: drops\n    kind: complaint\n`);
  return file;
}

function tokenFor(dir: string, name: string): string {
  const db = acquireDatabase(dataFile(join(dir, 'data')));
  try {
    return new Accounts(db).createToken(name, 'push').token;
  } finally {
    releaseDatabase(db);
  }
}

function sender(url: string, token: string) {
  return async (records: readonly HotlineRow[], signal?: AbortSignal): Promise<PushReply> => {
    const res = await fetch(`${url}/api/v1/complaints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(records.length === 1 ? records[0] : { records }),
      signal,
    });
    const text = await res.text();
    const ra = res.headers.get('retry-after');
    return { status: res.status, retryAfter: ra === null ? null : Number(ra), body: text ? JSON.parse(text) : null };
  };
}

/** What the store holds for one sending system, read back after the pipeline stopped. */
async function verdictFor(dir: string, history: History, sourceId: string): Promise<{ v: Verdict; wrongBody: string[]; strangers: string[] }> {
  const contents = await readStore(dataFile(join(dir, 'data')));
  const v = judge(history, contents);
  const byId = new Map(contents.items.map((i) => [i.id, i.body.trim()]));
  const wrongBody = [...history.accepted].filter(([id, body]) => byId.has(id) && byId.get(id) !== body).map(([id]) => id);
  const strangers = contents.items.filter((i) => i.sourceId === sourceId && !history.accepted.has(i.id)).map((i) => i.id);
  return { v, wrongBody, strangers };
}

function expectExactlyOnceAcked(label: string, r: Awaited<ReturnType<typeof verdictFor>>): void {
  expect(r.v.missing, `${label}: acknowledged records missing from the store`).toEqual([]);
  expect(r.v.duplicateIds, `${label}: records stored twice under one id`).toBe(0);
  expect(r.v.duplicateBodies, `${label}: one complaint text stored twice`).toBe(0);
  expect(r.wrongBody, `${label}: records whose stored text differs from what was sent`).toEqual([]);
  expect(r.strangers, `${label}: records in the store the desk never acknowledged`).toEqual([]);
  expect(r.v.found).toBe(r.v.accepted);
}

describe('push API floods against the embedded pipeline as `sentinel run` starts it', () => {
  const t = tempDir('sentinel-faults-flood-');
  afterAll(() => t.cleanup());

  it('answers a flood with 429 and Retry-After, stores every acknowledged record once, and keeps serving a second sender', async () => {
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
    const running: RunningPipeline = await startPipeline({ pipelineFile: pipelineFile(t.dir), dataDir: join(t.dir, 'data'), port: 0, log, demoAccount: false });
    const history = new History();
    const refused = new Set<string>();
    const retryAfters: number[] = [];
    let quietAccepted = 0;
    let flood: PushReply[] = [];
    try {
      const flooder = sender(running.deskUrl!, tokenFor(t.dir, 'flood-12345'));
      const quiet = sender(running.deskUrl!, tokenFor(t.dir, 'ruijin-12315'));
      // more requests than the shipped limit (120 a minute per sender), one record each
      const rows = hotlineRows(1, 180, seed);
      const quietRows = hotlineRows(2, 5, seed + 1);
      const floodDone = pool(
        24,
        rows.map((row) => async () => {
          const r = await flooder([row]);
          if (r.status === 200) history.accept('push-flood-12345', [row]);
          else refused.add(itemId('push-flood-12345', row.登记编号));
          return r;
        }),
      );
      // the other system sends its few records while the flood is on
      for (const row of quietRows) {
        const r = await quiet([row]);
        expect(r.status, 'a second sender during the flood').toBe(200);
        quietAccepted++;
      }
      flood = await floodDone;
      await running.drained();
    } finally {
      await running.stop();
    }

    const statuses = new Set(flood.map((r) => r.status));
    expect([...statuses].sort(), 'statuses the flood saw').toEqual([200, 429]);
    for (const r of flood.filter((x) => x.status === 429)) {
      expect(Number.isInteger(r.retryAfter), 'Retry-After is whole seconds').toBe(true);
      expect(r.retryAfter).toBeGreaterThanOrEqual(1);
      expect(r.retryAfter).toBeLessThanOrEqual(60);
      expect(r.body?.retryAfterSeconds).toBe(r.retryAfter);
      retryAfters.push(r.retryAfter!);
    }
    expect(history.accepted.size, 'acknowledged within the shipped limit').toBeLessThanOrEqual(120);
    const result = await verdictFor(t.dir, history, 'push-flood-12345');
    expectExactlyOnceAcked('flood', result);
    const contents = await readStore(dataFile(join(t.dir, 'data')));
    expect(contents.items.filter((i) => refused.has(i.id)), 'records refused with 429 that reached the store').toEqual([]);
    expect(contents.items.filter((i) => i.sourceId === 'push-ruijin-12315').length).toBe(quietAccepted);
    report(
      'push API flood (180 requests, 24 in flight, shipped 120/min)',
      1,
      result.v,
      `ok (seed ${seed}; ${refused.size} × 429, Retry-After ${Math.min(...retryAfters)}–${Math.max(...retryAfters)} s; second sender ${quietAccepted}/5 accepted during the flood)`,
    );
  }, 120_000);
});

describe('a sender that honours Retry-After and retries lost answers', () => {
  const t = tempDir('sentinel-faults-flood-retry-');
  afterAll(() => t.cleanup());

  it(`gets every record in exactly once over ${ROUNDS} flooded rounds`, async () => {
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
    const r = rng(seed);
    // The pipeline's own engines (bus, store) behind a desk with a small limit, so Retry-After is
    // about a second and a sender can wait it out within a test.
    const running = await startPipeline({ pipelineFile: pipelineFile(t.dir), roles: ['ingest', 'process', 'alerts'], dataDir: join(t.dir, 'data'), log });
    const db = acquireDatabase(dataFile(join(t.dir, 'data')));
    const accounts = new Accounts(db);
    const desk = await startDesk(
      { store: running.store, health: async () => ({ store: 'ok' }), accounts, ingestComplaints: running.ingest, pushRate: { max: 8, windowMs: 1_000 } },
      { port: 0 },
    );
    const send = sender(desk.url, accounts.createToken('yudu-12345', 'push').token);
    const history = new History();
    const tally = { requests: 0, tooMany: 0, aborted: 0, duplicateAcks: 0, honoured: 0 };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const rows = hotlineRows(10 + round, 60, seed + round);
        // batches of 1–4 records; each is sent until the desk gives a definite answer
        const batches: HotlineRow[][] = [];
        for (let i = 0; i < rows.length; ) {
          const n = 1 + Math.floor(r() * 4);
          batches.push(rows.slice(i, i + n));
          i += n;
        }
        await pool(
          8,
          batches.map((batch) => async () => {
            for (;;) {
              tally.requests++;
              // now and then the sender gives up waiting after the request went out: the desk may or may not have it
              const abort = r() < 0.15 ? new AbortController() : null;
              if (abort) setTimeout(() => abort.abort(), Math.floor(r() * 8));
              let reply: PushReply;
              try {
                reply = await send(batch, abort?.signal);
              } catch (err) {
                if ((err as Error).name !== 'AbortError') throw err;
                tally.aborted++;
                continue;
              }
              if (reply.status === 429) {
                tally.tooMany++;
                expect(reply.retryAfter).toBeGreaterThanOrEqual(1);
                await sleep(reply.retryAfter! * 1000);
                continue;
              }
              expect(reply.status, JSON.stringify(reply.body)).toBe(200);
              history.accept('push-yudu-12345', batch);
              tally.duplicateAcks += reply.body!.records!.filter((x) => x.duplicate).length;
              return;
            }
          }),
        );
        // one sender alone: after a 429, waiting Retry-After is enough for the next request to pass
        const probe = hotlineRows(90 + round, 20, seed + 100 + round);
        let got429: PushReply | null = null;
        for (const row of probe) {
          const reply = await send([row]);
          if (reply.status === 200) {
            history.accept('push-yudu-12345', [row]);
            continue;
          }
          expect(reply.status).toBe(429);
          got429 = reply;
          await sleep(reply.retryAfter! * 1000);
          const again = await send([row]);
          expect(again.status, 'the retry after waiting Retry-After').toBe(200);
          history.accept('push-yudu-12345', [row]);
          tally.honoured++;
          break;
        }
        expect(got429, 'a burst of 20 from one sender meets the limit of 8 a second').not.toBeNull();
      }
      await running.drained();
    } finally {
      await desk.close();
      releaseDatabase(db);
      await running.stop();
    }
    const result = await verdictFor(t.dir, history, 'push-yudu-12345');
    expectExactlyOnceAcked('retrying sender', result);
    expect(tally.tooMany, 'the flood met the limit').toBeGreaterThan(0);
    report(
      'push API flood, sender retries after Retry-After and after lost answers (8/s)',
      ROUNDS,
      result.v,
      `ok (seed ${seed}; ${tally.requests} requests, ${tally.tooMany} × 429, ${tally.aborted} aborted by the sender, ${tally.duplicateAcks} records acknowledged as duplicates)`,
    );
  }, 180_000);
});
