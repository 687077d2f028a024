import type { HistoryEntry } from '../../src/core/types.ts';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { AlertStage } from '../../src/alerts/stage.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { OutboxQueue } from '../../src/notify/outbox.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import { parseRoutes } from '../../src/config/routes.ts';
import { createSender } from '../../src/notify/sender.ts';
import { dingtalkSign } from '../../src/notify/formats/dingtalk.ts';
import { verifyStandardWebhook } from '../../src/notify/formats/generic.ts';
import type { Processor } from '../../src/pipeline/process.ts';
import type { RawItem } from '../../src/core/types.ts';
import { realProcessor } from './processor.ts';
import { stageHarness } from './stage-harness.ts';
import { tempDir, eventually } from '../helpers/tmp.ts';

const seg = createSegmenter();
const log = pino({ level: 'silent' });
const now = new Date('2026-11-28T12:00:00Z');

const raw = (id: string, over: Partial<RawItem>): RawItem => ({
  id, sourceId: 'jx-news', kind: 'news', title: '', body: '', publishedAt: '2026-11-28T08:00:00.000Z',
  fetchedAt: '2026-11-28T08:05:00.000Z', fields: {}, ...over,
});

describe('alert stage', () => {
  const h = stageHarness({ prefix: 'sentinel-stage-', now });
  let process: Processor;
  let store: SqliteStore;
  let queue: OutboxQueue;
  // after the harness's own hooks, which open a fresh store for each test
  beforeEach(() => ({ process, store, queue } = h));

  const story =
    '11月27日中午，于都县贡江镇某中心小学食堂供应午餐后，陆续有32名学生出现呕吐、腹痛等症状，已被送往县人民医院救治，目前均无生命危险。县市场监管局已封存留样食品，对食堂进行停业整顿。';

  it('merges a repost and a complaint about one incident into one alert that lists every item, and lifts its level on corroboration', async () => {
    const stage = new AlertStage({ store, queue, minLevel: '黄', routes: null, catchAll: [], log, now: () => now });
    await stage.init();
    const items = [
      raw('n1', { title: '于都县一小学32名学生午餐后呕吐腹痛', body: story }),
      raw('n2', { sourceId: 'repost-site', title: '【转】于都县一小学30余名学生午餐后呕吐腹痛', body: story.replace('32名', '30余名') }),
      raw('c1', {
        sourceId: 'hotline-12315', kind: 'complaint', title: '投诉：于都县贡江镇某中心小学食堂', regionHint: '360731',
        body: '我孩子在贡江镇中心小学读书，昨天中午在学校食堂吃了午饭后呕吐腹痛，送到县医院，班上好多同学都一样，请查学校食堂。',
        fields: { 诉求类型: '投诉', 被投诉主体: '于都县贡江镇某中心小学食堂' },
      }),
    ].map(process);
    for (const i of items) expect({ title: i.title, risk: i.risk }).toEqual({ title: i.title, risk: true });
    await stage.handle(items);
    const page = await store.searchAlerts({ limit: 10, offset: 0 });
    expect(page.total).toBe(1);
    const a = page.items[0]!;
    expect(a.itemIds.sort()).toEqual(['c1', 'n1', 'n2']);
    expect(a.sources.sort()).toEqual(['hotline-12315', 'jx-news', 'repost-site']);
    expect(a.history.filter((h) => h.action === 'merge')).toHaveLength(2);
    // news plus a complaint corroborate each other: one level up, unless already red
    const before = items.map((i) => i.level!).sort((x, y) => '红橙黄蓝'.indexOf(x) - '红橙黄蓝'.indexOf(y))[0]!;
    const lifted = '红橙黄蓝'['红橙黄蓝'.indexOf(before) === 0 ? 0 : '红橙黄蓝'.indexOf(before) - 1];
    expect(a.level).toBe(lifted);
    expect(a.history.some((h) => h.action === 'corroborate')).toBe(before !== '红');
    // a replay of the same batch changes nothing
    await stage.handle(items);
    const again = (await store.getAlert(a.id))!;
    expect(again.history).toEqual(a.history);
    expect(again.itemIds.sort()).toEqual(['c1', 'n1', 'n2']);
  });

  it('takes scored records published before tokens were joined (a list) as the same reports', async () => {
    const stage = new AlertStage({ store, queue, minLevel: '黄', routes: null, catchAll: [], log, now: () => now });
    await stage.init();
    const items = [
      raw('n1', { title: '于都县一小学32名学生午餐后呕吐腹痛', body: story }),
      raw('n2', { sourceId: 'repost-site', title: '【转】于都县一小学30余名学生午餐后呕吐腹痛', body: story.replace('32名', '30余名') }),
    ].map(process);
    const listed = items.map((i) => ({ ...i, tokens: i.tokens.split(' ') as unknown as string }));
    await stage.handle(listed);
    const page = await store.searchAlerts({ limit: 10, offset: 0 });
    expect(page.items.map((a) => a.itemIds.sort())).toEqual([['n1', 'n2']]);
    expect((await store.getItem('n2'))!.tokens).toBe(items[1]!.tokens);
  });

  it('corroboration lifts a yellow incident to orange and says why', async () => {
    const stage = new AlertStage({ store, queue, minLevel: '黄', routes: null, catchAll: [], log, now: () => now });
    const body = '于都县长征大道一家快餐店被发现后厨使用过期的冷冻鸡腿，执法人员现场查扣过期食材20公斤。';
    const news = process(raw('m1', { title: '于都县一快餐店使用过期食材被查', body }));
    const complaint = process(raw('m2', {
      sourceId: 'hotline-12315', kind: 'complaint', title: '举报：于都县长征大道某快餐店', regionHint: '360731',
      body: '举报长征大道这家快餐店后厨用过期的冷冻鸡腿做饭，冰柜里好多过期食材。', fields: { 诉求类型: '举报', 被投诉主体: '长征大道某快餐店' },
    }));
    expect([news.level, complaint.level]).toEqual(['黄', '黄']);
    await stage.handle([news, complaint]);
    const alerts = (await store.searchAlerts({ limit: 10, offset: 0 })).items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.level).toBe('橙');
    expect(alerts[0]!.history.find((h) => h.action === 'corroborate')?.note).toBeTruthy();
  });

  it('raises a repeat-complaint alert for one business even when each complaint alone is minor', async () => {
    const stage = new AlertStage({ store, queue, minLevel: '红', routes: null, catchAll: [], log, now: () => now });
    const texts = ['在这家店买的卤鸭脖有一股酸味，感觉变质了。', '这家卤味店的鸭掌发黏，闻着有异味，怀疑变质。', '第三次投诉这家卤味店，买的卤菜吃了有点拉肚子。'];
    const items = texts.map((body, i) =>
      process(raw(`b${i}`, {
        sourceId: 'hotline-12315', kind: 'complaint', title: '投诉：一品鲜卤味', body, regionHint: '361102',
        publishedAt: `2026-11-2${i + 5}T08:00:00.000Z`, fields: { 诉求类型: '投诉', 被投诉主体: '一品鲜卤味' },
      })),
    );
    for (const it of items) await stage.handle([it]);
    const alerts = (await store.searchAlerts({ limit: 10, offset: 0 })).items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.title).toContain('一品鲜卤味');
    expect(alerts[0]!.itemIds.sort()).toEqual(['b0', 'b1', 'b2']);
    expect(alerts[0]!.region).toBe('361102');
  });

  describe('routing and delivery to county offices', () => {
    let server: Server;
    const got: { path: string; headers: Record<string, unknown>; body: string }[] = [];
    let base = '';
    beforeEach(async () => {
      got.length = 0;
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          got.push({ path: req.url ?? '', headers: req.headers, body });
          res.setHeader('content-type', 'application/json');
          res.end(req.url?.startsWith('/robot') ? '{"errcode":0,"errmsg":"ok"}' : '{}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    const routesYaml = () => `
offices:
  - id: jx-province
    name: 江西省市场监督管理局值班室
    region: '360000'
    channels:
      - webhook: { url: '${base}/province', secretEnv: PROV_SECRET }
  - id: ganzhou-city
    name: 赣州市市场监督管理局
    region: '360700'
    channels:
      - dingtalk: { url: '${base}/robot/send?access_token=\${GZ_TOKEN}', secretEnv: GZ_SECRET }
  - id: yudu-county
    name: 于都县市场监督管理局
    region: '360731'
    channels:
      - webhook: { url: '${base}/yudu', secretEnv: YUDU_SECRET }
escalation:
  after_minutes: { 红: 15, 橙: 60, 黄: 240 }
  max_steps: 3
`;
    const env = {
      PROV_SECRET: 'whsec_' + Buffer.from('province-secret-0123456789abcdef').toString('base64'),
      GZ_TOKEN: 'tok123', GZ_SECRET: 'SECdingtalk', YUDU_SECRET: 'whsec_' + Buffer.from('yudu-secret-0123456789abcdefgh').toString('base64'),
    };

    it('a red alert in 于都 reaches the county, the city and the province, each in its format and signature', async () => {
      const routes = parseRoutes(routesYaml(), 'routes.yaml', env);
      const stage = new AlertStage({ store, queue, minLevel: '黄', routes, catchAll: [], log, now: () => now });
      const item = process(raw('r1', { title: '于都县一小学32名学生午餐后呕吐腹痛送医', body: story }));
      expect(item.level).toBe('红');
      await stage.handle([item]);
      const worker = queue.work(createSender({ store, routes, catchAll: [], deskUrl: 'http://desk.local' }), { pollMs: 20 });
      await eventually(() => got.length === 3);
      await worker.drained();
      await worker.stop();
      const paths = got.map((g) => g.path.split('?')[0]).sort();
      expect(paths).toEqual(['/province', '/robot/send', '/yudu']);
      const yudu = got.find((g) => g.path === '/yudu')!;
      expect(verifyStandardWebhook(env.YUDU_SECRET, yudu.headers as Record<string, string>, yudu.body)).toBe(true);
      expect(verifyStandardWebhook(env.PROV_SECRET, yudu.headers as Record<string, string>, yudu.body)).toBe(false);
      const robot = got.find((g) => g.path.startsWith('/robot'))!;
      const u = new URL(base + robot.path);
      expect(u.searchParams.get('access_token')).toBe('tok123');
      expect(u.searchParams.get('sign')).toBe(dingtalkSign('SECdingtalk', Number(u.searchParams.get('timestamp'))));
      expect(JSON.parse(robot.body).msgtype).toBe('markdown');
      const deliveries = await queue.deliveriesFor(item.id ? (await store.searchAlerts({ limit: 1, offset: 0 })).items[0]!.id : '');
      expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
      for (const d of deliveries) expect(JSON.stringify(d.payload)).not.toMatch(/secret|SEC|whsec/i);
    });

    it('an unacknowledged red alert escalates after 15 minutes: history and the next tier notified once', async () => {
      const routes = parseRoutes(routesYaml(), 'routes.yaml', env);
      let clock = now;
      const stage = new AlertStage({ store, queue, minLevel: '黄', routes, catchAll: [], log, now: () => clock });
      await stage.handle([process(raw('r1', { title: '于都县一小学32名学生午餐后呕吐腹痛送医', body: story }))]);
      const id = (await store.searchAlerts({ limit: 1, offset: 0 })).items[0]!.id;
      clock = new Date(now.getTime() + 10 * 60_000);
      expect(await stage.escalate()).toBe(0);
      clock = new Date(now.getTime() + 16 * 60_000);
      expect(await stage.escalate()).toBe(1);
      expect(await stage.escalate()).toBe(0);
      const a = (await store.getAlert(id))!;
      const esc = a.history.filter((h) => h.action === 'escalate');
      expect(esc).toHaveLength(1);
      expect(esc[0]!.note).toMatch(/红色预警15分钟未确认/);
      const d = await queue.deliveriesFor(id);
      expect(d.filter((x) => x.id.includes('escalated-1'))).toHaveLength(1);
      // an acknowledged alert does not escalate further
      await store.transition(id, { action: 'acknowledge', actor: '张三' });
      clock = new Date(now.getTime() + 300 * 60_000);
      expect(await stage.escalate()).toBe(0);
    });
  });
});

describe('alert stage: order of arrival', () => {
  it('the same reports in any order become the same incidents (linked alerts are folded)', async () => {
    const { incidentStream } = await import('./stream.ts');
    const process = await realProcessor();
    const items = incidentStream().map((s) => process(s.raw));
    const groupings = async (order: typeof items) => {
      const t = tempDir();
      const db = openDatabase(join(t.dir, 's.db'));
      const store = new SqliteStore(db, { tokenize: (x) => seg.cut(x), ownsDb: false });
      const queue = new OutboxQueue(db);
      const stage = new AlertStage({ store, queue, minLevel: '黄', routes: null, catchAll: [], log, now: () => now });
      for (let i = 0; i < order.length; i += 7) await stage.handle(order.slice(i, i + 7));
      const alerts = (await store.searchAlerts({ limit: 500, offset: 0 })).items;
      await queue.close();
      t.cleanup();
      return alerts.filter((a) => !a.id.startsWith('biz:')).map((a) => [...a.itemIds].sort().join(',')).sort();
    };
    const forward = await groupings(items);
    expect(forward.length).toBeGreaterThan(10);
    expect(await groupings([...items].reverse())).toEqual(forward);
    const shuffled = [...items].sort((a, b) => (a.simhash < b.simhash ? -1 : 1));
    expect(await groupings(shuffled)).toEqual(forward);
  });
});

describe('the history of a large incident', () => {
  it('lists merged reports up to MAX_MERGE_ENTRIES, says once that the rest are not listed, then stays put', async () => {
    const { withMergeEntry, MAX_MERGE_ENTRIES } = await import('../../src/alerts/stage.ts');
    const entry = (i: number) => ({ at: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(), action: 'merge', actor: 'sentinel', note: `合并报道 ${i}` });
    let history: HistoryEntry[] = [{ at: '2026-11-01T00:00:00.000Z', action: 'raise', actor: 'sentinel' }];
    for (let i = 0; i < MAX_MERGE_ENTRIES + 30; i++) history = withMergeEntry(history, entry(i));
    const merges = history.filter((h) => h.action === 'merge');
    expect(merges).toHaveLength(MAX_MERGE_ENTRIES + 1);
    expect(merges[MAX_MERGE_ENTRIES - 1]!.note).toBe(`合并报道 ${MAX_MERGE_ENTRIES - 1}`);
    expect(merges.at(-1)!.note).toContain('不再逐条记录');
    expect(history[0]!.action).toBe('raise');
  });
});
