import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startPipeline } from '../../../src/pipeline/runner.ts';
import { offlineProcessor } from '../../../src/cli/toolkit.ts';
import { alertFor } from '../../../src/alerts/raise.ts';
import { loadPipeline } from '../../../src/config/pipeline.ts';
import { AlertStage } from '../../../src/alerts/stage.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { openDatabase } from '../../../src/store/sqlite-db.ts';
import { createSegmenter } from '../../../src/text/segment.ts';
import type { Queue } from '../../../src/notify/queue.ts';
import type { Alert, ScoredItem } from '../../../src/core/types.ts';
import { corpus } from '../corpus.ts';
import { type BenchContext, type Figures, materialisePipeline, now, round, silentLog, sleep, summary } from '../common.ts';

/** Corpus indices of this figure start here so its items and alerts are new to every other figure. */
const FIRST_INDEX = 50_000_000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Which alerts each item lands in, found by running the alerts stage itself (incident merging,
 * repeat complaints) over the scored items in order on a scratch store, with deliveries dropped.
 */
async function replayAlertStage(
  dbFile: string,
  scored: ScoredItem[],
  minLevel: Alert['level'],
  terms: readonly string[],
  rulesDir: string,
): Promise<{ first: Map<string, string>; final: Map<string, string[]> }> {
  const db = openDatabase(dbFile);
  const segmenter = createSegmenter({ dictDir: join(rulesDir, 'dict'), extraWords: terms });
  const store = new SqliteStore(db, { tokenize: (t) => segmenter.cut(t), ownsDb: false });
  const queue = { kind: 'none', enqueue: async () => {}, deliveriesFor: async () => [], close: async () => {} } as unknown as Queue;
  const stage = new AlertStage({ store, queue, minLevel, routes: null, catchAll: [], log: silentLog });
  try {
    await stage.init();
    // first: the alert an item appears in when its batch is handled (an incident may later be
    // folded into another alert); final: every alert listing it at the end
    const first = new Map<string, string>();
    for (let i = 0; i < scored.length; i += 2) {
      const batch = scored.slice(i, i + 2);
      const touched = await stage.handle(batch);
      for (const it of batch) {
        const a = touched.find((x) => !x.id.startsWith('biz:') && x.itemIds.includes(it.id));
        if (a && !first.has(it.id)) first.set(it.id, a.id);
      }
    }
    const landing = new Map<string, string[]>();
    for (let offset = 0; ; offset += 500) {
      const page = await store.searchAlerts({ limit: 500, offset });
      for (const a of page.items) for (const id of a.itemIds) landing.set(id, [...(landing.get(id) ?? []), a.id]);
      if (offset + 500 >= page.total) break;
    }
    return { first, final: landing };
  } finally {
    db.close();
  }
}

/**
 * Figure 4: latency under a steady load. Items are ingested at `rate` per second (a few every
 * 10 ms, catching up when a tick is late) while the full embedded pipeline runs: process,
 * alerts, notify. For each item that should raise or join an alert (computed beforehand with the
 * same rules, processor, alertFor and alerts stage, so the measurement does not pay for it), we
 * poll the store until its alert is visible and lists the item; a local HTTP server records when
 * each new alert's webhook arrives.
 */
export async function latencyFigure(ctx: BenchContext): Promise<Figures> {
  const rate = 200;
  const seconds = ctx.quick ? 10 : 60;
  const dir = join(ctx.tmp, 'latency');
  const pipelineFile = materialisePipeline(dir);
  const pipeline = loadPipeline(pipelineFile);
  const items = corpus(rate * seconds, { seed: ctx.seed }, FIRST_INDEX);

  ctx.log(`latency: computing the expected alerts of ${items.length} items`);
  const { process, engine } = await offlineProcessor(pipeline.rulesDir, { province: pipeline.province, backend: pipeline.segmenter });
  const scored = items.map(process);
  const landing = await replayAlertStage(join(dir, 'expected.db'), scored, pipeline.alerts.minLevel, engine.terms, pipeline.rulesDir);
  // item index → the alerts it should become visible in: the one its batch puts it in, then the
  // one listing it at the end (when its incident was later folded into another alert)
  const expected = new Map<number, string[]>();
  scored.forEach((it, i) => {
    if (!alertFor(it, pipeline.alerts.minLevel)) return;
    const ids = [landing.first.get(it.id), ...(landing.final.get(it.id) ?? []).filter((a) => !a.startsWith('biz:'))].filter((a): a is string => !!a);
    if (ids.length) expected.set(i, [...new Set(ids)]);
  });
  const newAlerts = new Set([...expected.values()].map((ids) => ids[0]!)).size;

  const received = new Map<string, number>(); // alert id → Date.now() at receipt
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const at = Date.now();
    try {
      const id = (JSON.parse(body) as { alert?: { id?: string } }).alert?.id;
      if (id && !received.has(id)) received.set(id, at);
    } catch {
      /* a body we cannot read is still answered, and simply not counted */
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const running = await startPipeline({
    pipelineFile,
    roles: ['process', 'alerts', 'notify'],
    dataDir: join(dir, 'data'),
    webhookUrl: url,
    log: silentLog,
  });
  // per measured item: when it was handed over, and when its alert (listing it) was first read back
  const ingestedAt = new Map<number, number>();
  const visible = new Map<number, { at: number; alertId: string; createdAt: number }>();
  let polling = true;
  let deadline = Infinity;
  // The poller shares the pipeline's thread, so it reads each pending alert once per round
  // (not once per item) and its own time is reported: a busy poller would inflate the figure.
  let pollMs = 0;
  const pending = new Set<number>();
  const poller = (async () => {
    while (polling || pending.size) {
      const t = now();
      const byAlert = new Map<string, number[]>();
      for (const i of pending) {
        for (const id of expected.get(i)!) {
          const list = byAlert.get(id);
          if (list) list.push(i);
          else byAlert.set(id, [i]);
        }
      }
      for (const [id, idx] of byAlert) {
        const a = await running.store.getAlert(id);
        if (!a) continue;
        const seen = new Set(a.itemIds);
        for (const i of idx) {
          if (!pending.has(i) || !seen.has(items[i]!.id)) continue;
          visible.set(i, { at: now(), alertId: a.id, createdAt: Date.parse(a.createdAt) });
          pending.delete(i);
        }
      }
      pollMs += now() - t;
      await sleep(5);
      if (!polling && now() > deadline) break;
    }
  })();

  try {
    ctx.log(`latency: ${rate} items/s for ${seconds} s; ${expected.size} items should show in ${newAlerts} alerts`);
    const t0 = now();
    let sent = 0;
    let lateTicks = 0;
    while (sent < items.length) {
      const due = Math.min(items.length, Math.floor(((now() - t0) / 1000) * rate) + 1);
      if (due - sent > rate / 10) lateTicks++;
      if (due > sent) {
        const batch = items.slice(sent, due);
        const at = now();
        for (let i = sent; i < due; i++) {
          if (!expected.has(i)) continue;
          ingestedAt.set(i, at);
          pending.add(i);
        }
        await running.ingest(batch);
        sent = due;
      }
      await sleep(10);
    }
    const sendMs = now() - t0;
    let totalMs = 0;
    deadline = now() + 30_000;
    polling = false;
    await poller;
    while (received.size < newAlerts && now() < deadline) await sleep(20);
    totalMs = now() - t0;
    // what was still unhandled when the wait ended: a stalled stage shows here, not as a low percentile
    const lagRaw = await running.bus.lag('items.raw', 'process');
    const lagScored = await running.bus.lag('items.scored', 'alerts');
    await running.drained();

    const toAlert: number[] = [];
    const toHook: number[] = [];
    const itemToHook: number[] = [];
    const hooked = new Set<string>();
    for (const [i, t] of ingestedAt) {
      const v = visible.get(i);
      if (v) toAlert.push(v.at - t);
      const r = v && received.get(v.alertId);
      // one delivery per alert: the item that created it measures alert → webhook
      if (v && r && !hooked.has(v.alertId)) {
        hooked.add(v.alertId);
        toHook.push(r - v.createdAt);
        // item → webhook on one clock: visible time plus the wall-clock gap from alert creation
        itemToHook.push(v.at - t + (r - v.createdAt));
      }
    }
    const a = summary(toAlert);
    const h = summary(toHook);
    return {
      latency_rate_items_per_s: rate,
      latency_seconds: seconds,
      latency_achieved_items_per_s: round((items.length / sendMs) * 1000, 0),
      latency_late_ticks: lateTicks,
      latency_items_expected_in_alerts: expected.size,
      latency_items_seen_in_alerts: a.n,
      latency_alerts_expected: newAlerts,
      latency_webhooks_received: received.size,
      latency_poller_ms: round(pollMs, 0),
      latency_poller_share: round(pollMs / totalMs, 3),
      latency_lag_raw_at_end: lagRaw,
      latency_lag_scored_at_end: lagScored,
      // the slowest items, to tell a stalled stage from an item that joined its alert late
      latency_slowest: [...visible]
        .map(([i, v]) => ({ i, ms: Math.round(v.at - ingestedAt.get(i)!), own: alertFor(scored[i]!, pipeline.alerts.minLevel)?.id === v.alertId, alert: v.alertId, sentAtS: Math.round((ingestedAt.get(i)! - t0) / 1000) }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 5)
        .map((x) => `${x.ms}ms item#${x.i} sent@${x.sentAtS}s ${x.own ? 'raised' : 'joined'} ${x.alert}`),
      latency_missing_items: [...ingestedAt.keys()].filter((i) => !visible.has(i)).slice(0, 5).map((i) => items[i]!.id),
      p50_item_to_alert_ms: round(a.p50),
      p95_item_to_alert_ms: round(a.p95),
      p99_item_to_alert_ms: round(a.p99),
      max_item_to_alert_ms: round(a.max),
      p50_alert_to_webhook_ms: round(h.p50),
      p95_alert_to_webhook_ms: round(h.p95),
      p99_alert_to_webhook_ms: round(h.p99),
      max_alert_to_webhook_ms: round(h.max),
      p99_item_to_webhook_ms: round(summary(itemToHook).p99),
    };
  } finally {
    polling = false;
    deadline = 0;
    await poller.catch(() => undefined);
    await running.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
