import { randomUUID } from 'node:crypto';
import { describe, it, expect, afterEach } from 'vitest';
import { BullmqScheduler, scheduleQueueName, type BullmqSchedulerOptions } from '../../src/pipeline/bullmq-scheduler.ts';
import { createScheduler } from '../../src/pipeline/scheduler-factory.ts';
import { Scheduler } from '../../src/pipeline/scheduler.ts';
import { eventually } from '../helpers/tmp.ts';
import { redisUrl } from '../notify/bullmq-helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  at: number;
  by: string;
}

/** Time between consecutive runs, in ms. */
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

describe('createScheduler (SENTINEL_QUEUE)', () => {
  it('gives in-process timers when unset, as the embedded default', async () => {
    expect(await createScheduler(undefined)).toBeInstanceOf(Scheduler);
    expect(await createScheduler('sqlite')).toBeInstanceOf(Scheduler);
  });

  it('gives the BullMQ scheduler for redis:// without connecting, and names the setting in errors', async () => {
    const s = await createScheduler('redis://127.0.0.1:1?prefix=fs-zj');
    expect(s).toBeInstanceOf(BullmqScheduler);
    await s.stop();
    await expect(createScheduler('kafka://kafka:9092')).rejects.toThrow(/SENTINEL_QUEUE=kafka:\/\/kafka:9092: unknown scheduler/);
    await expect(createScheduler('redis://redis:6379/schedules')).rejects.toThrow(/SENTINEL_QUEUE=redis:\/\/redis:6379\/schedules: path/);
  });

  it('keeps any source id a legal BullMQ queue name (no ":")', () => {
    expect(scheduleQueueName('zjamr-news')).toBe('schedule.zjamr-news');
    expect(scheduleQueueName('hotline:12315')).not.toContain(':');
    expect(scheduleQueueName('杭州市场监管')).not.toBe(scheduleQueueName('杭州市场监管局'));
    expect(() => scheduleQueueName('')).toThrow(/needs a name/);
  });
});

describe.skipIf(!redisUrl)('BullMQ scheduler (redis-server)', () => {
  const started: BullmqScheduler[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  /** One "process" of the deployment; processes given the same prefix share their schedules. */
  const processOf = (prefix: string, over: Partial<BullmqSchedulerOptions> = {}) => {
    const s = new BullmqScheduler({ url: redisUrl!, prefix, stopTimeoutMs: 3_000, ...over });
    started.push(s);
    return s;
  };
  const freshPrefix = () => `s${randomUUID().slice(0, 8)}`;

  it('two processes registering the same source poll it once per period between them, never twice at once', async () => {
    const prefix = freshPrefix();
    const runs: Run[] = [];
    const poll = (by: string) => async () => {
      runs.push({ at: Date.now(), by });
      return 300;
    };
    const a = processOf(prefix);
    const b = processOf(prefix);
    a.schedule('zjamr-news', 0, poll('A'));
    b.schedule('zjamr-news', 0, poll('B'));
    await sleep(2_000);
    await Promise.all([a.stop(), b.stop()]);

    // 300 ms for 2 s is ~7 runs; two independent timer chains would give ~14
    expect(runs.length).toBeGreaterThanOrEqual(5);
    expect(runs.length).toBeLessThanOrEqual(9);
    expect(Math.min(...gaps(runs.map((r) => r.at)))).toBeGreaterThanOrEqual(150);
  });

  it('when one process stops, the other keeps the schedule going', async () => {
    const prefix = freshPrefix();
    const runs: Run[] = [];
    const poll = (by: string) => async () => {
      runs.push({ at: Date.now(), by });
      return 250;
    };
    const a = processOf(prefix);
    const b = processOf(prefix);
    a.schedule('hotline-12315', 0, poll('A'));
    b.schedule('hotline-12315', 0, poll('B'));
    await eventually(() => runs.length >= 2, 5_000);
    await a.stop();
    const stoppedAt = Date.now();
    const after = () => runs.filter((r) => r.at > stoppedAt);
    // B may sit out its idle wait (BullMQ's drainDelay, 5 s) if the stopping A had taken the
    // wake-up marker of the next run; then it catches up on the next due run
    await eventually(() => after().length >= 3, 9_000);
    expect(new Set(after().map((r) => r.by))).toEqual(new Set(['B']));
  });

  it('a task returning a longer delay slows the shared schedule down; a failing run backs off, a success restores it', async () => {
    const prefix = freshPrefix();
    const runs: number[] = [];
    // 3 quick polls, then the source asks for 900 ms, then it fails once, then it is healthy again
    const plan: Array<number | 'fail'> = [200, 200, 200, 900, 900, 'fail', 200, 200, 200];
    const a = processOf(prefix, { failureDelayMs: 700 });
    a.schedule('samr-notices', 0, async () => {
      const step = plan[runs.length] ?? 200;
      runs.push(Date.now());
      if (step === 'fail') throw new Error('HTTP 503 from www.samr.gov.cn');
      return step;
    });
    await eventually(() => runs.length >= 4, 5_000);
    expect(await a.describe('samr-notices')).toMatchObject({ everyMs: 900 });
    await eventually(() => runs.length >= 9, 10_000);

    const g = gaps(runs);
    // gaps[i] is the wait after run i, which returned plan[i]
    for (const i of [0, 1, 2, 6, 7]) expect(g[i], `gap after run ${i}`).toBeLessThan(600);
    for (const i of [3, 4]) expect(g[i], `gap after run ${i}`).toBeGreaterThanOrEqual(800);
    expect(g[5], 'gap after the failed run').toBeGreaterThanOrEqual(600);
    expect(await a.describe('samr-notices')).toMatchObject({ everyMs: 200 });
  });

  it('a process only runs the tasks it registered; another process on the same Redis never takes them', async () => {
    const prefix = freshPrefix();
    const ran: Record<string, string[]> = { ingest: [], alerts: [] };
    const ingest = processOf(prefix);
    const alerts = processOf(prefix);
    ingest.schedule('zjamr-news', 0, async () => (ran.ingest.push('zjamr-news'), 200));
    alerts.schedule('escalation', 0, async () => (ran.alerts.push('escalation'), 200));
    await sleep(1_000);
    expect(ran.ingest.length).toBeGreaterThanOrEqual(3);
    expect(ran.alerts.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ran.ingest)).toEqual(new Set(['zjamr-news']));
    expect(new Set(ran.alerts)).toEqual(new Set(['escalation']));
  });

  it('refuses the same task name twice in one process', () => {
    const a = processOf(freshPrefix());
    a.schedule('source-watch', 60_000, async () => 60_000);
    expect(() => a.schedule('source-watch', 60_000, async () => 60_000)).toThrow(/'source-watch' is already scheduled/);
  });

  it('stop() returns within its deadline while a run hangs, and another process then takes the schedule over', async () => {
    const prefix = freshPrefix();
    let release: () => void = () => undefined;
    let hung = 0;
    // every process of a queue throttles the shared stalled check to its own interval, so both get a short one
    const quick = { lockDurationMs: 1_000, stalledIntervalMs: 300, provisionalEveryMs: 300 };
    const a = processOf(prefix, { ...quick, stopTimeoutMs: 1_000 });
    a.schedule('hotline-drop', 0, () => {
      hung++;
      return new Promise<number>((r) => (release = () => r(300)));
    });
    await eventually(() => hung === 1, 5_000);

    const bRuns: number[] = [];
    const b = processOf(prefix, quick);
    b.schedule('hotline-drop', 0, async () => (bRuns.push(Date.now()), 300));
    await sleep(800);
    // the next period is due, but the hung run still holds the task: no overlap
    expect(bRuns).toEqual([]);

    const t0 = Date.now();
    await a.stop();
    expect(Date.now() - t0).toBeLessThanOrEqual(1_200);
    // A's lock lapses (1 s), the stalled check hands the task to B, and B carries on
    await eventually(() => bRuns.length >= 2, 12_000);
    release();
  });
});
