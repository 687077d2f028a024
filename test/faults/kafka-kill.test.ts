import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { TOPICS, type BatchHandler } from '../../src/bus/bus.ts';
import type { RawItem } from '../../src/core/types.ts';
import { dataFile, startPipeline, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { DEFAULT_PIPELINE } from '../../src/cli/common.ts';
import { eventually, tempDir } from '../helpers/tmp.ts';
import { kafkaBrokers, testBus, uniquePrefix } from '../bus/kafka-helpers.ts';
import { History, ROUNDS, expectExactlyOnce, hotlineRows, judge, readHotline, readStore, report, rng, sleep, undisturbed, writeCsv, type StoreContents, type Verdict } from './helpers.ts';

/**
 * kill -9 with the Kafka bus (librdkafka's mock cluster) between the SQLite store and the
 * committed offsets. Every item the bus acknowledged to its publisher is accepted; after the
 * kills and a restart each is in the store exactly once, and no item is claimed by two incident
 * alerts beyond what an undisturbed run shows. FAULT_SEED=<seed> replays a round's batches and
 * kill delays (the broker's own timing is not replayable).
 *
 * The pipeline processes run test/faults/kafka-child.ts: startPipeline as `sentinel run` calls it
 * with the process and alerts roles, plus test-only instrumentation (see that file).
 */

const CHILD = resolve('test/faults/kafka-child.ts');
const SOURCE = 'hotline-12315';
/** How long a member joining a busy group may take to store its first batch (CI hosts run the whole suite at once). */
const JOIN_DEADLINE_MS = 120_000;

interface Member {
  name: string;
  proc: ChildProcess;
  /** each alerts batch the member finished: its record keys */
  stored: string[][];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** resolves once the member has finished `n` alerts batches in all */
  storedAtLeast: (n: number, timeoutMs?: number) => Promise<void>;
  /** resolves once startPipeline returned in the member (its consumers are joining their groups) */
  ready: Promise<void>;
}

const live = new Set<Member>();
afterEach(() => {
  for (const m of live) if (m.proc.exitCode === null && m.proc.signalCode === null) m.proc.kill('SIGKILL');
  live.clear();
});

function member(name: string, env: Record<string, string>): Member {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: resolve('.'),
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let partial = '';
  const stored: string[][] = [];
  const waiters = new Set<() => void>();
  let isReady!: () => void;
  const ready = new Promise<void>((r) => (isReady = r));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      if (l.startsWith('stored ')) stored.push(l.split(' ').slice(2));
      if (l === 'ready') isReady();
    }
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => {
      for (const w of waiters) w();
      res({ code, signal });
    }),
  );
  const storedAtLeast = (n: number, timeoutMs = 60_000) =>
    new Promise<void>((res, rej) => {
      const timer = setTimeout(() => done(new Error(`${name}: fewer than ${n} batches stored within ${timeoutMs} ms:\n${err.slice(-2000)}`)), timeoutMs);
      const check = () => {
        if (stored.length >= n) done();
        else if (proc.exitCode !== null || proc.signalCode !== null) done(new Error(`${name} exited before storing ${n} batches:\n${err.slice(-2000)}`));
      };
      const done = (e?: Error) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (e) rej(e);
        else res();
      };
      waiters.add(check);
      check();
    });
  const m: Member = { name, proc, stored, stderr: () => err, exited, storedAtLeast, ready };
  live.add(m);
  return m;
}

async function kill9(m: Member): Promise<void> {
  m.proc.kill('SIGKILL');
  const end = await m.exited;
  expect(end.signal, `${m.name} ended by itself before the kill:\n${m.stderr().slice(-1500)}`).toBe('SIGKILL');
}

async function stopCleanly(m: Member): Promise<void> {
  // before startPipeline returned there is no SIGTERM handler yet (the work may all be done by then)
  await Promise.race([m.ready, m.exited]);
  m.proc.kill('SIGTERM');
  expect(await m.exited, `${m.name}: clean stop after SIGTERM:\n${m.stderr().slice(-1500)}`).toEqual({ code: 0, signal: null });
}

/** Records published but not committed, in flow order: raw by the process group, then scored by the alerts group. */
async function lag(bus: KafkaBus): Promise<number> {
  return (await bus.lag(TOPICS.raw, 'process')) + (await bus.lag(TOPICS.scored, 'alerts'));
}

/**
 * Both groups committed everything. Raw is read first: a raw record is committed only after its
 * scored record was published, so raw at 0 and then scored at 0 means everything reached the store.
 */
async function drained(bus: KafkaBus, timeoutMs = 90_000): Promise<void> {
  await eventually(async () => (await bus.lag(TOPICS.raw, 'process')) === 0 && (await bus.lag(TOPICS.scored, 'alerts')) === 0, timeoutMs);
}

/** A hotline export of `count` rows, read as the CLI reads it, ready to publish. */
async function batchOf(dir: string, n: number, count: number, seed: number, now: number) {
  const rows = hotlineRows(n, count, seed, now);
  const file = join(dir, `export-${n}.csv`);
  writeCsv(file, rows);
  return { rows, items: await readHotline(file, SOURCE) };
}

/** Publishes as an ingest process does; once the brokers acknowledged, the rows are accepted. */
async function publish(bus: KafkaBus, history: History, b: { rows: ReturnType<typeof hotlineRows>; items: RawItem[] }): Promise<void> {
  await bus.publish<RawItem>(
    TOPICS.raw,
    b.items.map((it) => ({ key: it.id, value: it })),
  );
  history.accept(SOURCE, b.rows);
}

/**
 * expectExactlyOnce, except that items in two live incident alerts are counted (the `shared`
 * column of the report) rather than failed on. With two alerts members, a report redelivered
 * across a rebalance can land in the other member's alert of the same incident: a KNOWN BUG of
 * the alerts stage, pinned deterministically in alerts-members.test.ts. Everything about the
 * items themselves — none missing, none twice, bodies as sent, alerts naming stored items — is
 * asserted as everywhere else.
 */
function storedExactlyOnce(history: History, contents: StoreContents, label: string, baseline: StoreContents): Verdict {
  const v = judge(history, contents);
  const before = new Set(judge(history, baseline).sharedItems);
  v.sharedItems = v.sharedItems.filter((id) => !before.has(id));
  const byId = new Map(contents.items.map((i) => [i.id, i.body.trim()]));
  expect(v.missing, `${label}: accepted items missing from the store`).toEqual([]);
  expect(v.duplicateIds, `${label}: items stored twice under one id`).toBe(0);
  expect(v.duplicateBodies, `${label}: one complaint text stored twice`).toBe(0);
  expect([...history.accepted].filter(([id, body]) => byId.get(id) !== body).map(([id]) => id), `${label}: items whose stored text differs`).toEqual([]);
  expect(v.found).toBe(v.accepted);
  expect(contents.alerts.flatMap((a) => a.itemIds.filter((id) => !byId.has(id))), `${label}: alerts naming items the store does not hold`).toEqual([]);
  return v;
}

describe.skipIf(!kafkaBrokers)('kill -9 of a pipeline process on the Kafka bus, then a restart', () => {
  const buses: KafkaBus[] = [];
  const temps: { cleanup: () => void }[] = [];
  afterAll(async () => {
    for (const b of buses) await b.close();
    for (const t of temps) t.cleanup();
  });
  function setup(name: string) {
    const t = tempDir(`sentinel-faults-kafka-${name}-`);
    temps.push(t);
    const prefix = uniquePrefix();
    const bus = testBus(prefix);
    buses.push(bus);
    const env = { SENTINEL_BUS: `kafka://${kafkaBrokers}?prefix=${prefix}`, SENTINEL_DATA: join(t.dir, 'data') };
    return { dir: t.dir, bus, env, db: dataFile(join(t.dir, 'data')) };
  }

  it(`every acknowledged item is stored exactly once after ${ROUNDS} processes killed at random points of their work`, async () => {
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
    const r = rng(seed);
    const { dir, bus, env, db } = setup('random');
    const history = new History();
    const batches: RawItem[][] = [];
    const kills: string[] = [];
    let midWork = 0;
    // how long a process's work lasts, learnt from the kills: one that found nothing left means
    // the work was shorter than its delay, so later kills aim earlier
    let span = 1_000;
    const now = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      const b = await batchOf(dir, round + 1, 400 + Math.floor(r() * 300), seed + round, now);
      await publish(bus, history, b);
      batches.push(b.items);

      // the delay counts from the first batch this process stored, so the kill lands while it
      // processes, stores or commits — not while it loads rules or joins the group
      const victim = member(`round ${round}`, env);
      await victim.storedAtLeast(1);
      const delay = Math.floor(r() * span);
      await sleep(delay);
      await kill9(victim);
      const left = await lag(bus);
      if (left > 0) midWork++;
      span = left > 0 ? Math.min(2_000, span * 1.25) : Math.max(100, delay);
      kills.push(`${delay}ms/${victim.stored.length} batches/${left} left`);
    }

    const last = member('restart', env);
    await drained(bus);
    await stopCleanly(last);

    const contents = await readStore(db);
    const v = expectExactlyOnce(history, contents, `seed ${seed} (kills ${kills.join(', ')})`, await undisturbed(batches));
    report('kill -9 pipeline process on Kafka (random points)', ROUNDS, v, `ok (seed ${seed}; ${midWork} of ${ROUNDS} kills left work uncommitted; kills ${kills.join(', ')})`);
  }, 90_000 + ROUNDS * 25_000);

  it('killed right after an alerts batch is stored and before its offsets are committed: the batch comes again and is stored once', async () => {
    const { dir, bus, env, db } = setup('window');
    const history = new History();
    const now = Date.now();
    const b = await batchOf(dir, 1, 400, 4242, now);
    await publish(bus, history, b);

    // the third alerts batch: two are committed before it, so the restart must resume between
    const victim = member('crashing', { ...env, CRASH_AFTER_STORE: '3' });
    const end = await victim.exited;
    expect(end.signal, victim.stderr().slice(-1500)).toBe('SIGKILL');
    expect(victim.stored).toHaveLength(3);
    const crashed = victim.stored[2]!;
    // what the crash left: the batch is in the store, its offsets are not committed
    const before = await readStore(db);
    const have = new Set(before.items.map((i) => i.id));
    expect(crashed.filter((id) => !have.has(id)), 'the crashed batch was stored before the crash').toEqual([]);
    expect(await bus.lag(TOPICS.scored, 'alerts')).toBeGreaterThanOrEqual(crashed.length);

    const restart = member('restart', env);
    await drained(bus);
    await stopCleanly(restart);
    const again = new Set(restart.stored.flat());
    expect(crashed.filter((id) => !again.has(id)), 'every record of the uncommitted batch is delivered again').toEqual([]);

    const v = expectExactlyOnce(history, await readStore(db), 'crash between store write and offset commit', await undisturbed([b.items]));
    report('kill -9 after store write, before Kafka offset commit (exact window)', 1, v, `ok (${crashed.length} records redelivered, stored once)`);
  }, 120_000);

  it(`a second member joining mid-batch, then ${ROUNDS} members killed while both run: every acknowledged item stored exactly once`, async () => {
    const seed = Number(process.env.FAULT_SEED ?? (Date.now() + 11) % 1_000_000);
    const r = rng(seed);
    const { dir, bus, env, db } = setup('join');
    const history = new History();
    const batches: RawItem[][] = [];
    const now = Date.now();
    let n = 0;
    const more = async (count: number) => {
      const b = await batchOf(dir, ++n, count, seed + n, now);
      await publish(bus, history, b);
      batches.push(b.items);
      return b.items.map((i) => i.id);
    };

    await more(300);
    const members = [member('A', env)];
    await members[0]!.storedAtLeast(1);
    // B starts; as it joins the group, A is in the middle of a large backlog, and more keeps
    // arriving until B has taken partitions over
    members.push(member('B', env));
    await members[1]!.ready;
    const backlog = new Set(await more(2500));
    // B's first stored batch. The wait is in wall time, not batches: on a loaded CI host a
    // rebalance can take far longer than here. B dying fails at once, with what it printed.
    // storedAtLeast settles on B's first batch, on its exit or at the deadline: undefined until then.
    const firstOfB = members[1]!.storedAtLeast(1, JOIN_DEADLINE_MS);
    let outcome: Error | null | undefined;
    void firstOfB.then(() => (outcome = null), (e: Error) => (outcome = e));
    while (outcome === undefined) {
      await more(60);
      await Promise.race([firstOfB.catch(() => undefined), sleep(Math.min(300 + n * 20, 2_000))]);
    }
    if (outcome) throw new Error(`B stored nothing while ${n} batches were published: ${outcome.message}\nA's stderr:\n${members[0]!.stderr().slice(-2000)}`);
    // the split happened mid-backlog: each member stored part of it
    await eventually(() => {
      const done = new Set(members.flatMap((m) => m.stored.flat()));
      return [...backlog].every((id) => done.has(id));
    }, 60_000);
    const shares = members.map((m) => new Set(m.stored.flat().filter((id) => backlog.has(id))).size);
    shares.forEach((share, i) => expect(share, `${members[i]!.name}'s share of the backlog`).toBeGreaterThan(0));

    const kills: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await more(150 + Math.floor(r() * 150));
      const i = r() < 0.5 ? 0 : 1;
      const victim = members[i]!;
      const delay = Math.floor(r() * 800);
      await sleep(delay);
      await kill9(victim);
      kills.push(`${victim.name}@${delay}ms`);
      members[i] = member(`${victim.name[0]}${round + 1}`, env);
      await more(100);
    }

    await drained(bus);
    for (const m of members) await stopCleanly(m);
    const v = storedExactlyOnce(history, await readStore(db), `seed ${seed} (kills ${kills.join(', ')})`, await undisturbed(batches));
    report('Kafka: 2nd member joins mid-batch, members kill -9ed', ROUNDS, v, `ok (seed ${seed}; ${n} batches; backlog of ${backlog.size} split A ${shares[0]} / B ${shares[1]} (overlap = redelivered); kills ${kills.join(', ')})`);
  }, JOIN_DEADLINE_MS + 120_000 + ROUNDS * 25_000);
});

describe.skipIf(!kafkaBrokers)('in process: the alerts handler fails after its store write, before the commit', () => {
  let running: RunningPipeline | null = null;
  const original = KafkaBus.prototype.consume;
  afterEach(async () => {
    KafkaBus.prototype.consume = original;
    await running?.stop();
    running = null;
  });

  it('the runner does not commit the batch, delivers it again, and the store holds it once', async () => {
    const t = tempDir('sentinel-faults-kafka-inproc-');
    try {
      // The failure sits on the bus's own handler boundary: the pipeline's alerts handler has
      // resolved (items and alerts written), then the call fails as a crash there would.
      const calls: { keys: string[]; failed: boolean; storedBefore: number }[] = [];
      let store: RunningPipeline['store'] | null = null;
      let bus: KafkaBus | null = null;
      KafkaBus.prototype.consume = function (this: KafkaBus, topic: string, group: string, handler: BatchHandler<unknown>, opts?: Parameters<KafkaBus['consume']>[3]) {
        if (topic !== TOPICS.scored) return original.call(this, topic, group, handler, opts);
        bus = this;
        return original.call(
          this,
          topic,
          group,
          async (batch) => {
            await handler(batch);
            const keys = batch.map((rec) => rec.key);
            const fail = calls.filter((c) => c.failed).length < 2 && calls.length >= 1;
            const found = store ? (await store.getItems(keys)).length : -1;
            calls.push({ keys, failed: fail, storedBefore: found });
            if (fail) throw new Error('故障注入：存储写入后、提交位点前失败');
          },
          opts,
        );
      } as KafkaBus['consume'];
      const prefix = uniquePrefix();
      running = await startPipeline({
        pipelineFile: DEFAULT_PIPELINE,
        roles: ['process', 'alerts'],
        dataDir: t.dir,
        bus: `kafka://${kafkaBrokers}?prefix=${prefix}`,
        log: pino({ level: 'silent' }),
      });
      store = running.store;
      const history = new History();
      const rows = hotlineRows(1, 300, 777);
      const file = join(t.dir, 'export.csv');
      writeCsv(file, rows);
      const items = await readHotline(file, SOURCE);
      await running.bus.publish<RawItem>(TOPICS.raw, items.map((it) => ({ key: it.id, value: it })));
      history.accept(SOURCE, rows);
      await running.drained();

      const failed = calls.filter((c) => c.failed);
      expect(failed).toHaveLength(2);
      for (const f of failed) {
        // the failing call came after the write: every record of it was already in the store
        expect(f.storedBefore).toBe(f.keys.length);
        // and the same records were handed over again afterwards
        const later = calls.slice(calls.indexOf(f) + 1).flatMap((c) => c.keys);
        expect(f.keys.filter((k) => !later.includes(k))).toEqual([]);
      }
      expect(await bus!.lag(TOPICS.scored, 'alerts')).toBe(0);
      await running.stop();
      running = null;

      const v = expectExactlyOnce(history, await readStore(dataFile(t.dir)), 'in-process failure after store write', await undisturbed([items]));
      report('Kafka handler fails after store write, before commit (in process)', 1, v, `ok (2 batches failed after writing, redelivered, stored once)`);
    } finally {
      t.cleanup();
    }
  }, 90_000);
});
