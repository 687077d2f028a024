import { describe, it, expect, beforeAll, beforeEach, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { AlertStage } from '../../src/alerts/stage.ts';
import { SilenceStore } from '../../src/alerts/silences-store.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { OutboxQueue } from '../../src/notify/outbox.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import { parseRoutes } from '../../src/config/routes.ts';
import { createSender } from '../../src/notify/sender.ts';
import { verifyStandardWebhook } from '../../src/notify/formats/generic.ts';
import type { Processor } from '../../src/pipeline/process.ts';
import type { RawItem, ScoredItem } from '../../src/core/types.ts';
import { realProcessor } from './processor.ts';
import { tempDir, eventually } from '../helpers/tmp.ts';

const seg = createSegmenter();
const log = pino({ level: 'silent' });
const T0 = new Date('2026-11-28T12:00:00Z');
const story =
  '11月27日中午，于都县贡江镇某中心小学食堂供应午餐后，陆续有32名学生出现呕吐、腹痛等症状，已被送往县人民医院救治，目前均无生命危险。县市场监管局已封存留样食品，对食堂进行停业整顿。';
const raw = (id: string, over: Partial<RawItem> = {}): RawItem => ({
  id, sourceId: 'jx-news', kind: 'news', title: '于都县一小学32名学生午餐后呕吐腹痛送医', body: story,
  publishedAt: '2026-11-28T08:00:00.000Z', fetchedAt: '2026-11-28T08:05:00.000Z', fields: {}, ...over,
});
const secret = (s: string) => 'whsec_' + Buffer.from(s.padEnd(24, '0')).toString('base64');
const env = { YUDU_SECRET: secret('yudu'), FALLBACK_SECRET: secret('fallback'), PROV_SECRET: secret('province') };

describe('alert stage: silences and fallback channels', () => {
  let process: Processor;
  let t: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let queue: OutboxQueue;
  let silences: SilenceStore;
  let clock: Date;
  let server: Server;
  let base = '';
  const got: { path: string; headers: Record<string, string>; body: string }[] = [];
  let yuduStatus = 200;

  beforeAll(async () => {
    process = await realProcessor();
  });
  beforeEach(async () => {
    clock = T0;
    t = tempDir();
    const db = openDatabase(join(t.dir, 's.db'));
    store = new SqliteStore(db, { tokenize: (x) => seg.cut(x), ownsDb: false });
    queue = new OutboxQueue(db, { ownsDb: false });
    silences = new SilenceStore(db, { now: () => clock });
    got.length = 0;
    yuduStatus = 200;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ path: req.url ?? '', headers: req.headers as Record<string, string>, body });
        res.statusCode = req.url === '/yudu' ? yuduStatus : 200;
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await queue.close();
    await new Promise<void>((r) => server.close(() => r()));
    t.cleanup();
  });

  const routes = () =>
    parseRoutes(
      `
offices:
  - id: jx-province
    name: 江西省市场监督管理局值班室
    region: '360000'
    channels:
      - webhook: { url: '${base}/province', secretEnv: PROV_SECRET }
  - id: yudu-county
    name: 于都县市场监督管理局
    region: '360731'
    channels:
      - webhook: { url: '${base}/yudu', secretEnv: YUDU_SECRET }
    fallback:
      - webhook: { url: '${base}/yudu-fallback', secretEnv: FALLBACK_SECRET }
`,
      'routes.yaml',
      env,
    );
  const stageWith = (r = routes()) => new AlertStage({ store, queue, minLevel: '黄', routes: r, catchAll: [], log, now: () => clock, silences });
  const onlyAlert = async () => (await store.searchAlerts({ limit: 5, offset: 0 })).items;

  it('a silenced alert is stored and shown but not pushed; its history names the silence and reason once', async () => {
    const item: ScoredItem = process(raw('r1'));
    expect(item.regions[0]).toBe('360731');
    const s = silences.create({ category: item.category!, region: '360700', until: '2h', reason: '市局已派员现场处置' }, '张敏');
    const stage = stageWith();
    await stage.handle([item]);
    await stage.handle([item, process(raw('r2', { sourceId: 'repost-site' }))]);
    const alerts = await onlyAlert();
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    const entries = a.history.filter((h) => h.action === 'silenced');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.note).toContain('市局已派员现场处置');
    expect(entries[0]!.note).toContain(s.id);
    expect(await queue.deliveriesFor(a.id)).toEqual([]);
    // escalation is still written for the desk, the re-notification stays muted
    clock = new Date(T0.getTime() + 16 * 60_000);
    expect(await stage.escalate()).toBe(1);
    expect(await queue.deliveriesFor(a.id)).toEqual([]);
  });

  it('a rule silence needs the rule behind the alert; another region is not muted', async () => {
    const item = process(raw('r1'));
    const rule = item.explanation.find((e) => e.matched)!.rule;
    silences.create({ rule: 'some-other-rule', region: '360731', until: '1h', reason: '无关规则的静默' }, '张敏');
    silences.create({ rule, region: '360102', until: '1h', reason: '另一县的静默' }, '张敏');
    await stageWith().handle([item]);
    const [a] = await onlyAlert();
    expect(a!.history.some((h) => h.action === 'silenced')).toBe(false);
    expect((await queue.deliveriesFor(a!.id)).length).toBeGreaterThan(0);
  });

  it('after the silence expires by itself, the next report of the alert is pushed', async () => {
    const item = process(raw('r1'));
    const rule = item.explanation.find((e) => e.matched)!.rule;
    silences.create({ rule, region: '360731', until: '30m', reason: '县局现场处置中' }, '张敏');
    const stage = stageWith();
    await stage.handle([item]);
    const [a] = await onlyAlert();
    expect(a!.history.filter((h) => h.action === 'silenced')).toHaveLength(1);
    expect(await queue.deliveriesFor(a!.id)).toEqual([]);
    clock = new Date(T0.getTime() + 31 * 60_000);
    await stage.handle([process(raw('r3', { sourceId: 'repost-site' }))]);
    expect((await queue.deliveriesFor(a!.id)).map((d) => d.channel).sort()).toEqual(['jx-province/webhook', 'yudu-county/webhook']);
  });

  it('a dead-lettered delivery goes to the office fallback channel and the alert history says which channel failed and why', async () => {
    yuduStatus = 404;
    const r = routes();
    const stage = stageWith(r);
    await stage.handle([process(raw('r1'))]);
    const [a] = await onlyAlert();
    const sender = createSender({ store, routes: r, catchAll: [] });
    const w = queue.work(sender, { pollMs: 10, backoffMs: 10, onDead: (d, e) => stage.deliveryFailed(d, e) });
    await eventually(() => got.some((g) => g.path === '/yudu-fallback'));
    await eventually(async () => (await queue.deliveriesFor(a!.id)).every((d) => d.status !== 'pending'));
    await w.drained();
    await w.stop();
    const fb = got.filter((g) => g.path === '/yudu-fallback');
    expect(fb).toHaveLength(1);
    expect(verifyStandardWebhook(env.FALLBACK_SECRET, fb[0]!.headers, fb[0]!.body)).toBe(true);
    expect(JSON.parse(fb[0]!.body).alert.id).toBe(a!.id);
    // a 404 is permanent: one try at the primary, no retries
    expect(got.filter((g) => g.path === '/yudu')).toHaveLength(1);
    const states = await queue.deliveriesFor(a!.id);
    expect(states.find((d) => d.channel === 'yudu-county/webhook')).toMatchObject({ status: 'dead', lastError: expect.stringContaining('HTTP 404') });
    expect(states.find((d) => d.channel === 'yudu-county/webhook~fallback')).toMatchObject({ status: 'delivered' });
    const failed = (await store.getAlert(a!.id))!.history.filter((h) => h.action === 'deliveryFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.note).toContain('yudu-county/webhook');
    expect(failed[0]!.note).toContain('HTTP 404');
    expect(failed[0]!.note).toContain('yudu-county/webhook~fallback');
    // the hook running again (a restart in between) changes nothing
    await stage.deliveryFailed(states.find((d) => d.channel === 'yudu-county/webhook')!, 'POST yudu-county/webhook: HTTP 404');
    expect((await store.getAlert(a!.id))!.history.filter((h) => h.action === 'deliveryFailed')).toHaveLength(1);
    expect((await queue.deliveriesFor(a!.id)).length).toBe(states.length);
  });

  it('a 5xx is retried under the same webhook-id until the attempts run out, then falls back', async () => {
    yuduStatus = 503;
    const r = routes();
    const stage = stageWith(r);
    await stage.handle([process(raw('r1'))]);
    const [a] = await onlyAlert();
    const w = queue.work(createSender({ store, routes: r, catchAll: [] }), { pollMs: 5, backoffMs: 5, maxAttempts: 3, onDead: (d, e) => stage.deliveryFailed(d, e) });
    await eventually(() => got.some((g) => g.path === '/yudu-fallback'));
    await w.drained();
    await w.stop();
    const tries = got.filter((g) => g.path === '/yudu');
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((g) => g.headers['webhook-id'])).size).toBe(1);
    expect((await queue.deliveriesFor(a!.id)).find((d) => d.channel === 'yudu-county/webhook')).toMatchObject({ status: 'dead', attempts: 3 });
  });
});
