import { join, resolve } from 'node:path';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import type { RawItem, ScoredItem } from '../core/types.ts';
import type { Bus, Consumer } from '../bus/bus.ts';
import { TOPICS, commitWith } from '../bus/bus.ts';
import type { Store } from '../store/store.ts';
import type { Queue, QueueWorker } from '../notify/queue.ts';
import { createBus } from '../bus/factory.ts';
import { createStore } from '../store/factory.ts';
import { createQueue } from '../notify/factory.ts';
import { acquireDatabase, checkpointersStopped, checkpointInBackground, releaseDatabase } from '../store/sqlite-db.ts';
import { loadPipeline, type Pipeline } from '../config/pipeline.ts';
import { loadRuleEngine, type RuleEngine } from '../scoring/engine.ts';
import { oneAtATime, settingsBatchProcessor, settingsSegmenter, type BatchProcessor, type ProcessSettings } from './process.ts';
import { applyHeapPolicy } from './heap.ts';
import { startProcessPool } from './process-pool.ts';
import type { Segmenter } from '../text/segmenter.ts';
import type { WebhookChannel } from '../notify/webhook.ts';
import { AlertStage } from '../alerts/stage.ts';
import { createSender } from '../notify/sender.ts';
import { listChannels } from '../notify/channels.ts';
import { SilenceStore } from '../alerts/silences-store.ts';
import { loadRoutes } from '../config/routes.ts';
import { SourceState, type SourceStatus } from './source-state.ts';
import { withJitter } from './scheduler.ts';
import { createScheduler } from './scheduler-factory.ts';
import { startDesk } from '../desk/server.ts';
import { scoreTextWith } from '../desk/rules.ts';
import { Accounts, ensureDemoAccount } from '../auth/accounts.ts';
import { loadTrendRules } from '../config/trends.ts';
import type { Source } from '../sources/source.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { outageAlert, sourceOutage } from '../alerts/source-watch.ts';

export const ROLES = ['ingest', 'process', 'alerts', 'notify', 'desk', 'all'] as const;
export type Role = (typeof ROLES)[number];

export interface RunOptions {
  pipelineFile: string;
  /** Which stages this process runs; default ['all']. */
  roles?: Role[];
  /** Folder of the embedded engines' file (SENTINEL_DATA). */
  dataDir?: string;
  bus?: string;
  store?: string;
  queue?: string;
  host?: string;
  port?: number;
  /** Generic catch-all webhook (SENTINEL_WEBHOOK_URL / SENTINEL_WEBHOOK_SECRET). */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Watch rules/ and reload on change (embedded default). */
  watchRules?: boolean;
  /** Create a `demo` officer with a random password (printed once) when there are no users; default true. */
  demoAccount?: boolean;
  /** Desk session idle timeout. */
  sessionIdleMs?: number;
  /** Mark cookies Secure (the desk is reached over https). */
  secureCookies?: boolean;
  log: Logger;
}

export interface RunningPipeline {
  pipeline: Pipeline;
  bus: Bus;
  store: Store;
  queue: Queue;
  deskUrl: string | null;
  engine(): RuleEngine;
  /** Reloads rules; on error keeps the last good rules and rethrows the reason. */
  reloadRules(): Promise<RuleEngine>;
  /** Hands items to the bus as a source would: only new or changed ones are published. */
  ingest(items: RawItem[]): Promise<{ fresh: number; duplicates: number; freshIds: string[] }>;
  /** Polls every source once now (CLI, tests). */
  pollAll(): Promise<void>;
  /** Resolves when every consumer and the queue have handled everything so far. */
  drained(): Promise<void>;
  sourceStatuses(): SourceStatus[];
  /** A consumer that gave up for good (its engine exhausted its bounded retries), or null. */
  fatal(): Error | null;
  metrics: Metrics;
  /** Escalates unacknowledged alerts that are due (also runs every 30 s in the alerts role). */
  escalate(): Promise<number>;
  /** Raises a system alert for every source whose monitoring has stopped (also runs every minute). */
  checkSources(now?: Date): Promise<number>;
  stop(): Promise<void>;
}

/** Errors after which a consumer will not recover by itself: the process must exit so a supervisor restarts it. */
const FATAL_ERRORS = new Set(['KafkaConsumerGaveUpError']);

export function dataFile(dataDir: string): string {
  return join(resolve(dataDir), 'sentinel.db');
}

export async function startPipeline(opts: RunOptions): Promise<RunningPipeline> {
  const log = opts.log;
  // Before any worker starts: the policy is the process's, and workers take it from there.
  applyHeapPolicy();
  const roles = opts.roles?.length ? opts.roles : (['all'] as Role[]);
  const has = (r: Role) => roles.includes('all') || roles.includes(r);
  const pipeline = loadPipeline(opts.pipelineFile);
  const dbPath = dataFile(opts.dataDir ?? 'data');

  let engine = await loadRuleEngine(pipeline.rulesDir);
  const settings: ProcessSettings = {
    rulesDir: pipeline.rulesDir,
    segmenter: pipeline.segmenter,
    province: pipeline.province,
    weights: pipeline.sources.map((s) => [s.id, s.weight]),
    sourceRegions: pipeline.sources.flatMap((s) => (s.region ? [[s.id, s.region] as [string, string]] : [])),
  };
  // The jieba dictionary and the region tables are large: a process whose stage runs on worker
  // threads loads them in the main thread only when something asks (desk search, paste-and-score).
  let mainSegmenter: Segmenter | null = null;
  const segmenter = (): Segmenter => (mainSegmenter ??= settingsSegmenter(settings, engine.terms));
  let inline: BatchProcessor | null = null;
  const processBatch: BatchProcessor = (raws) => (inline ??= settingsBatchProcessor(() => engine, settings, segmenter()))(raws);
  const pool = has('process') && pipeline.process.workers > 0 ? await startProcessPool(settings, pipeline.process.workers, log) : null;
  // The alerts stage segments every alert it stores (the alert's full-text words), so it needs the
  // dictionary at its first alert anyway: loaded now, its half second of blocking falls into start-up
  // instead of into the first batch (bench figure 3 measured it there).
  if (has('alerts')) segmenter();

  const bus = await createBus(opts.bus, dbPath);
  const store = await createStore(opts.store, dbPath, (t) => segmenter().cut(t));
  const queue = await createQueue(opts.queue, dbPath);
  const stateDb = acquireDatabase(dbPath);
  // The embedded log (and store) write tens of KB per item: their checkpoints run on a thread of their own.
  if (bus.kind === 'sqlite') checkpointInBackground(stateDb);
  const state = new SourceState(stateDb);

  const metrics = createMetrics();
  const consumers: Consumer[] = [];
  const workers: QueueWorker[] = [];
  // Embedded: in-process timers. With SENTINEL_QUEUE=redis://… the schedule lives in BullMQ, so
  // several ingest processes share it and each source is polled once per period, not once each.
  const scheduler = await createScheduler(opts.queue, {
    onError: (err, task) => log.warn({ task, err: err.message }, 'scheduled task or its Redis schedule failed'),
  });
  const channels: WebhookChannel[] = pipeline.notify.webhooks.map((w) => ({
    name: w.name,
    url: w.url,
    secret: w.secretEnv ? globalThis.process.env[w.secretEnv] : undefined,
  }));
  if (opts.webhookUrl) channels.push({ name: 'catch-all', url: opts.webhookUrl, secret: opts.webhookSecret });

  // --- ingest: poll sources, publish what is new to the raw topic -------------------------
  const ingest = async (items: RawItem[]) => {
    const { fresh, duplicates } = state.fresh(items);
    await bus.publish<RawItem>(TOPICS.raw, fresh.map((it) => ({ key: it.id, value: it })));
    // marked only after the bus accepted them: a crash in between republishes, never loses
    state.markSeen(fresh);
    return { fresh: fresh.length, duplicates, freshIds: fresh.map((f) => f.id) };
  };
  const pollSource = async (source: Source): Promise<number> => {
    const prev = state.status(source.id);
    const status: SourceStatus = prev ?? {
      id: source.id, type: source.type, kind: source.kind, lastPollAt: null, lastSuccessAt: null,
      lastError: null, lastErrorAt: null, consecutiveFailures: 0, seen: 0, new: 0, duplicate: 0,
      newestItemAt: null, nextPollAt: null,
    };
    const started = new Date();
    status.lastPollAt = started.toISOString();
    let next = withJitter(source.everyMs);
    try {
      const items = await source.poll({ signal: AbortSignal.timeout(120_000), now: () => new Date(), baseDir: pipeline.dir });
      const { fresh, duplicates } = await ingest(items);
      // only now, with the items safely on the bus, may a source forget them (move drop files, keep ETags)
      await source.acknowledge?.();
      status.lastSuccessAt = new Date().toISOString();
      status.consecutiveFailures = 0;
      status.seen += items.length;
      status.new += fresh;
      status.duplicate += duplicates;
      for (const it of items) {
        if (!status.newestItemAt || it.publishedAt > status.newestItemAt) status.newestItemAt = new Date(it.publishedAt).toISOString();
      }
      metrics.polls.inc({ source: source.id, outcome: 'ok' });
      metrics.itemsSeen.inc({ source: source.id, state: 'new' }, fresh);
      metrics.itemsSeen.inc({ source: source.id, state: 'duplicate' }, duplicates);
      metrics.lastSuccess.set({ source: source.id }, Date.now() / 1000);
      log.info({ source: source.id, seen: items.length, new: fresh, duplicates }, 'source polled');
    } catch (err) {
      status.lastError = (err as Error).message;
      status.lastErrorAt = new Date().toISOString();
      status.consecutiveFailures++;
      // back off on failure: double the interval per consecutive failure, at most 6 h
      next = Math.min(withJitter(source.everyMs) * 2 ** Math.min(status.consecutiveFailures, 6), 6 * 3_600_000);
      metrics.polls.inc({ source: source.id, outcome: 'error' });
      log.warn({ source: source.id, err: status.lastError }, 'source poll failed');
    }
    status.nextPollAt = new Date(Date.now() + next).toISOString();
    state.saveStatus(status);
    return next;
  };

  // --- process: raw → scored ---------------------------------------------------------------
  if (has('process')) {
    const publishEncoded = bus.publishEncoded?.bind(bus);
    consumers.push(
      bus.consume<RawItem>(
        TOPICS.raw,
        'process',
        async (batch, ctx) => {
          const end = metrics.processSeconds.startTimer();
          const raw = batch.map((r) => r.value);
          // A bus that stores JSON text takes the workers' serialisation as it is.
          if (pool && publishEncoded) {
            const scored = await pool.processEncoded(raw);
            for (const s of scored) metrics.processed.inc({ level: s.level ?? 'none' });
            end();
            // The scored records and the raw read position commit together (embedded bus).
            await commitWith(ctx, () => publishEncoded(TOPICS.scored, scored.map((s) => ({ key: s.id, json: s.json }))));
            return;
          }
          const scored = pool ? await pool.process(raw) : processBatch(raw);
          for (const s of scored) metrics.processed.inc({ level: s.level ?? 'none' });
          end();
          await commitWith(ctx, () => bus.publish<ScoredItem>(TOPICS.scored, scored.map((s) => ({ key: s.id, value: s }))));
        },
        // Scoring has no side effects, so the workers score the next batch while this one is
        // written and stored: with one batch at a time they waited for every commit.
        { concurrency: pool ? 2 : 1 },
      ),
    );
  }

  // --- alerts: store items, merge incidents, raise alerts, route deliveries ---------------
  const routesFile = join(pipeline.rulesDir, 'routes.yaml');
  const routes = existsSync(routesFile) ? loadRoutes(routesFile) : null;
  for (const w of routes?.warnings ?? []) log.warn({ routes: routesFile }, w);
  // Silences live in the embedded data file whatever the engines (like desk users).
  const silences = new SilenceStore(stateDb);
  const stage = new AlertStage({
    store,
    queue,
    minLevel: pipeline.alerts.minLevel,
    routes,
    catchAll: channels.map((c) => c.name),
    log,
    silences,
  });
  // One sender per process: queue deliveries and the desk's test messages share its robot budgets.
  const sender = createSender({ store, routes, catchAll: channels, deskUrl: pipeline.notify.deskUrl });
  if (has('alerts')) {
    await stage.init();
    consumers.push(
      bus.consume<ScoredItem>(TOPICS.scored, 'alerts', async (batch, ctx) => {
        // Items, alerts, deliveries and the scored read position commit together (embedded engines).
        const alerts = await commitWith(ctx, () => stage.handle(batch.map((r) => r.value))).catch((err: unknown) => {
          // The bus retries the batch from the same position; a process without the desk role has
          // no /healthz, so a store outage must at least show in its log.
          log.warn({ items: batch.length, err: err instanceof Error ? err.message : String(err) }, 'storing a batch failed; it will be retried from the same position');
          throw err;
        });
        for (const a of alerts) metrics.alerts.inc({ level: a.level });
        if (alerts.length) log.info({ items: batch.length, alerts: alerts.length }, 'alerts raised or updated');
      }),
    );
    scheduler.schedule('escalation', 30_000, async () => {
      await stage.escalate().catch((err) => log.error({ err: (err as Error).message }, 'escalation failed'));
      return 30_000;
    });
  }

  // --- notify: deliver webhooks and robot messages -----------------------------------------
  if (has('notify')) {
    workers.push(
      queue.work(sender, {
        // robot rate limit: waiting deliveries of a channel go out as one digest
        digest: sender.digest,
        // a dead letter goes to the office's fallback channels and into the alert's history
        onDead: (d, error) => stage.deliveryFailed(d, error),
      }),
    );
  }

  // --- source watch: a monitor that silently stops is the worst failure --------------------
  const checkSources = async (now = new Date()) => {
    const raised = pipeline.sources.flatMap((s) => {
      const st = state.status(s.id);
      const outage = st && sourceOutage(st, s.everyMs, now);
      return outage ? [outageAlert(s.id, outage, now)] : [];
    });
    const fresh = [];
    for (const a of raised) if (!(await store.getAlert(a.id))) fresh.push(a);
    if (fresh.length) {
      await store.upsertAlerts(fresh);
      for (const a of fresh) log.error({ source: a.sources[0], reason: a.summary }, 'source monitoring stopped');
      // a system alert has no region, so routing sends it to the provincial desk
      await queue.enqueue(fresh.flatMap((a) => stage.deliveriesFor(a, { event: 'raised', alertId: a.id })));
    }
    return fresh.length;
  };

  if (has('ingest')) {
    pipeline.sources.forEach((s, i) => scheduler.schedule(s.id, i * 50, () => pollSource(s)));
    scheduler.schedule('source-watch', 60_000, async () => {
      await checkSources().catch((err) => log.error({ err: (err as Error).message }, 'source watch failed'));
      return 60_000;
    });
  }

  // --- rules reload ------------------------------------------------------------------------
  const reloadRules = async () => {
    const next = await loadRuleEngine(pipeline.rulesDir);
    engine = next;
    // Workers read the same files; one that fails keeps its last good rules and says so.
    await pool?.reload().catch((err: Error) => log.error({ err: err.message }, 'a process worker kept its last good rules'));
    log.info({ rules: next.rules.length }, 'rules reloaded');
    return next;
  };
  let watcher: FSWatcher | null = null;
  if (opts.watchRules) {
    let timer: NodeJS.Timeout | null = null;
    try {
      watcher = watch(pipeline.rulesDir, { recursive: true }, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          reloadRules().catch((err) => log.error({ err: (err as Error).message }, 'rules reload failed; keeping the last good rules'));
        }, 300);
      });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot watch rules folder; reload through the API instead');
    }
  }

  // --- desk ----------------------------------------------------------------------------------
  let desk: Awaited<ReturnType<typeof startDesk>> | null = null;
  if (has('desk')) {
    const accounts = new Accounts(stateDb, { idleMs: opts.sessionIdleMs ?? 30 * 60_000 });
    if (opts.demoAccount ?? true) await ensureDemoAccount(accounts);
    const trendsDir = join(pipeline.rulesDir, 'trends');
    let trendRules = existsSync(trendsDir) ? loadTrendRules(trendsDir) : [];
    desk = await startDesk(
      {
        store,
        queue,
        accounts,
        trendRules: () => trendRules,
        ingestComplaints: ingest,
        ruleEngine: () => engine,
        scoreText: scoreTextWith(oneAtATime(processBatch)),
        dataDir: resolve(opts.dataDir ?? 'data'),
        metrics: async () => {
          for (const c of [['items.raw', 'process'], ['items.scored', 'alerts']] as const) {
            metrics.lag.set({ topic: c[0], group: c[1] }, await bus.lag(c[0], c[1]).catch(() => -1));
          }
          return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
        },
        reloadRules: async () => {
          const next = await reloadRules();
          if (existsSync(trendsDir)) trendRules = loadTrendRules(trendsDir);
          return next;
        },
        health: async () => {
          const out: Record<string, string> = {};
          await store.ping().then(() => (out.store = 'ok'), (e: Error) => (out.store = e.message));
          for (const c of consumers) {
            const e = c.lastError();
            if (e) out.bus = `consumer failing: ${e.message}`;
          }
          out.bus ??= 'ok';
          return out;
        },
        sources: async () => pipeline.sources.map((s) => state.status(s.id) ?? { id: s.id, type: s.type, kind: s.kind, lastPollAt: null }),
        silences,
        channels: { list: () => listChannels(routes, channels), sendTest: sender.sendTest },
      },
      {
        host: opts.host ?? '127.0.0.1',
        port: opts.port ?? 8080,
        secureCookies: opts.secureCookies ?? false,
        // Warnings and errors only: a request line per SSE reconnect and static file is noise on a duty machine.
        log: log.child({ component: 'desk' }, { level: log.levelVal > 40 ? log.level : 'warn' }),
      },
    );
    log.info({ url: desk.url }, 'duty desk listening');
  }

  return {
    pipeline,
    bus,
    store,
    queue,
    deskUrl: desk?.url ?? null,
    engine: () => engine,
    reloadRules,
    ingest,
    pollAll: async () => {
      await Promise.all(pipeline.sources.map((s) => pollSource(s)));
    },
    drained: async () => {
      // raw → scored → alerts → deliveries: drain in flow order, twice to catch hand-offs
      for (let i = 0; i < 2; i++) {
        for (const c of consumers) await c.drained();
        for (const w of workers) await w.drained();
      }
    },
    sourceStatuses: () => pipeline.sources.flatMap((s) => state.status(s.id) ?? []),
    fatal: () => consumers.map((c) => c.lastError()).find((e) => e != null && FATAL_ERRORS.has(e.name)) ?? null,
    metrics,
    checkSources,
    escalate: () => stage.escalate(),
    stop: async () => {
      watcher?.close();
      await desk?.close();
      await scheduler.stop();
      await Promise.all(consumers.map((c) => c.stop()));
      await pool?.close();
      await Promise.all(workers.map((w) => w.stop()));
      await queue.close();
      await bus.close();
      await store.close();
      releaseDatabase(stateDb);
      await checkpointersStopped();
    },
  };
}
