import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import type { Alert, ScoredItem } from '../../src/core/types.ts';
import { AlertQuery, ItemQuery } from '../../src/core/query.ts';
import { ConflictError, NotFoundError, TransitionError } from '../../src/core/errors.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import { joinTokens } from '../../src/text/tokens.ts';

const seg = createSegmenter();
export const tokenize = (t: string) => seg.cut(t);

export function item(over: Partial<ScoredItem> & { id: string; title: string; body?: string }): ScoredItem {
  const body = over.body ?? '';
  const text = `${over.title}\n${body}`;
  return {
    sourceId: 'jx-news',
    kind: 'news',
    url: `https://news.example.cn/${over.id}`,
    publishedAt: '2026-11-28T02:00:00.000Z',
    fetchedAt: '2026-11-28T02:05:00.000Z',
    fields: {},
    text,
    tokens: joinTokens(tokenize(text)),
    simhash: '0000000000000000',
    regions: [],
    category: null,
    score: 0,
    level: null,
    risk: false,
    hits: [],
    explanation: [],
    processedAt: '2026-11-28T02:05:01.000Z',
    body,
    ...over,
  };
}

export function alert(over: Partial<Alert> & { id: string }): Alert {
  return {
    level: '黄',
    category: '食品销售',
    region: '',
    regions: [],
    title: '超市销售过期食品',
    summary: '',
    score: 7,
    itemIds: ['i1'],
    sources: ['jx-news'],
    kinds: ['news'],
    terms: ['过期'],
    status: 'new',
    firstSeenAt: '2026-11-28T02:00:00.000Z',
    lastSeenAt: '2026-11-28T02:00:00.000Z',
    createdAt: '2026-11-28T02:05:00.000Z',
    updatedAt: '2026-11-28T02:05:00.000Z',
    history: [],
    version: 1,
    ...over,
  };
}

/** The one suite every store engine passes (embedded SQLite now; Elasticsearch runs the same when ES_URL is set). */
export function storeConformance(name: string, make: () => Promise<{ store: Store; cleanup: () => Promise<void> }>) {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => cleanup());

    const items = () => [
      item({ id: 'i1', title: '南昌市某小学食堂学生午餐后呕吐', body: '东湖区23名学生送医。', regions: ['360102'], risk: true, level: '红', category: '校园食品安全', score: 16, kind: 'news', publishedAt: '2026-11-28T01:00:00.000Z' }),
      item({ id: 'i2', title: '于都县超市销售过期牛奶', body: '消费者投诉超市货架上的牛奶已过期。', regions: ['360731'], risk: true, level: '黄', category: '假冒伪劣过期', score: 7, kind: 'complaint', sourceId: 'hotline', publishedAt: '2026-11-27T01:00:00.000Z' }),
      item({ id: 'i3', title: '全省开展食品安全宣传周活动', body: '各地举办知识竞赛。', regions: ['360000'], kind: 'notice', sourceId: 'samr', publishedAt: '2026-11-20T01:00:00.000Z' }),
    ];

    it('upserts items by id: writing twice keeps one copy with the newest content', async () => {
      await store.upsertItems(items());
      await store.upsertItems([{ ...items()[1]!, title: '于都县超市销售过期酸奶' }]);
      const page = await store.searchItems(ItemQuery.parse({}));
      expect(page.total).toBe(3);
      expect((await store.getItem('i2'))?.title).toBe('于都县超市销售过期酸奶');
      expect(await store.getItem('nope')).toBeNull();
    });

    it('filters items by risk, level, kind, source, category and time, newest first', async () => {
      await store.upsertItems(items());
      const ids = async (q: Record<string, unknown>) => (await store.searchItems(ItemQuery.parse(q))).items.map((i) => i.id);
      expect(await ids({})).toEqual(['i1', 'i2', 'i3']);
      expect(await ids({ risk: 'true' })).toEqual(['i1', 'i2']);
      expect(await ids({ risk: 'false' })).toEqual(['i3']);
      expect(await ids({ level: '红,黄' })).toEqual(['i1', 'i2']);
      expect(await ids({ kind: 'complaint' })).toEqual(['i2']);
      expect(await ids({ source: ['samr', 'hotline'] })).toEqual(['i2', 'i3']);
      expect(await ids({ category: '校园食品安全' })).toEqual(['i1']);
      expect(await ids({ from: '2026-11-27T00:00:00Z', to: '2026-11-27T23:59:59Z' })).toEqual(['i2']);
    });

    it('filters by region with province and city codes matching everything below them', async () => {
      await store.upsertItems(items());
      const ids = async (region: string) => (await store.searchItems(ItemQuery.parse({ region }))).items.map((i) => i.id);
      expect(await ids('360102')).toEqual(['i1']);
      expect(await ids('360100')).toEqual(['i1']);
      expect(await ids('360700')).toEqual(['i2']);
      expect(await ids('360000')).toEqual(['i1', 'i2', 'i3']);
      expect(await ids('440000')).toEqual([]);
    });

    it('searches Chinese full text through the same segmentation as the items', async () => {
      await store.upsertItems(items());
      const ids = async (q: string) => (await store.searchItems(ItemQuery.parse({ q }))).items.map((i) => i.id);
      expect(await ids('食堂')).toEqual(['i1']);
      expect(await ids('过期牛奶')).toEqual(['i2']);
      expect(await ids('知识竞赛')).toEqual(['i3']);
      expect(await ids('冷链')).toEqual([]);
      // FTS syntax in user text is inert, never an error
      expect(await ids('"食堂" OR NEAR(')).toEqual([]);
    });

    it('pages with limit and offset and reports the total', async () => {
      await store.upsertItems(items());
      const p = await store.searchItems(ItemQuery.parse({ limit: 2, offset: 1 }));
      expect(p.total).toBe(3);
      expect(p.items.map((i) => i.id)).toEqual(['i2', 'i3']);
    });

    it('upserting an alert again refreshes detection but keeps what officers did', async () => {
      await store.upsertAlerts([alert({ id: 'a1' })]);
      const acked = await store.transition('a1', { action: 'acknowledge', actor: '张三' });
      expect(acked.status).toBe('acknowledged');
      await store.upsertAlerts([alert({ id: 'a1', level: '橙', itemIds: ['i9'], sources: ['hotline'], lastSeenAt: '2026-11-29T00:00:00.000Z' })]);
      const a = (await store.getAlert('a1'))!;
      expect(a.status).toBe('acknowledged');
      expect(a.version).toBe(acked.version);
      expect(a.history.map((h) => h.action)).toEqual(['acknowledge']);
      expect(a.level).toBe('橙');
      expect(a.itemIds.sort()).toEqual(['i1', 'i9']);
      expect(a.sources.sort()).toEqual(['hotline', 'jx-news']);
      expect(a.lastSeenAt).toBe('2026-11-29T00:00:00.000Z');
      expect(a.firstSeenAt).toBe('2026-11-28T02:00:00.000Z');
    });

    it('history written by detection joins the alert; a re-raise adds nothing', async () => {
      await store.upsertAlerts([alert({ id: 'a1', history: [{ at: '2026-11-28T02:05:00.000Z', action: 'raise', actor: 'sentinel' }] })]);
      await store.transition('a1', { action: 'note', actor: '张三', note: '已核实' });
      const merged = { at: '2026-11-28T03:00:00.000Z', action: 'merge', actor: 'sentinel', note: '合并报道' };
      await store.upsertAlerts([alert({ id: 'a1', history: [{ at: '2026-11-28T03:00:00.000Z', action: 'raise', actor: 'sentinel' }, merged] })]);
      await store.upsertAlerts([alert({ id: 'a1', history: [merged] })]);
      const a = (await store.getAlert('a1'))!;
      expect(a.history.map((h) => `${h.action}:${h.actor}`)).toEqual(['raise:sentinel', 'note:张三', 'merge:sentinel']);
    });

    it('a lower level seen later never lowers an alert', async () => {
      await store.upsertAlerts([alert({ id: 'a1', level: '红', score: 15 })]);
      await store.upsertAlerts([alert({ id: 'a1', level: '蓝', score: 3 })]);
      const a = (await store.getAlert('a1'))!;
      expect(a.level).toBe('红');
      expect(a.score).toBe(15);
    });

    it('filters and searches alerts', async () => {
      await store.upsertAlerts([
        alert({ id: 'a1', level: '红', category: '校园食品安全', title: '某小学食堂学生集体呕吐', regions: ['360102'], region: '360102', lastSeenAt: '2026-11-28T03:00:00.000Z' }),
        alert({ id: 'a2', level: '黄', category: '冷链食品', title: '进口冻品无检疫证明', regions: ['360731'], region: '360731', lastSeenAt: '2026-11-28T04:00:00.000Z' }),
      ]);
      await store.transition('a2', { action: 'acknowledge', actor: 'x' });
      const ids = async (q: Record<string, unknown>) => (await store.searchAlerts(AlertQuery.parse(q))).items.map((a) => a.id);
      expect(await ids({})).toEqual(['a2', 'a1']);
      expect(await ids({ level: '红' })).toEqual(['a1']);
      expect(await ids({ status: 'acknowledged' })).toEqual(['a2']);
      expect(await ids({ status: 'new' })).toEqual(['a1']);
      expect(await ids({ category: '冷链食品' })).toEqual(['a2']);
      expect(await ids({ region: '360100' })).toEqual(['a1']);
      expect(await ids({ q: '食堂' })).toEqual(['a1']);
      expect(await ids({ q: '冻品' })).toEqual(['a2']);
      // a keyword with a place, as the desk asks: the province, a city, a county, and a place with none of them
      expect(await ids({ q: '食堂', region: '360000' })).toEqual(['a1']);
      expect(await ids({ q: '食堂', region: '360100' })).toEqual(['a1']);
      expect(await ids({ q: '食堂', region: '360700' })).toEqual([]);
      expect(await ids({ q: '冻品', region: '360731,360102', level: '黄' })).toEqual(['a2']);
      expect(await ids({ q: '学生 呕吐', region: '360102', status: 'new' })).toEqual(['a1']);
    });

    it('runs the workflow: acknowledge, assign, note, close with a reason, reopen; every step in history', async () => {
      await store.upsertAlerts([alert({ id: 'a1' })]);
      await store.transition('a1', { action: 'acknowledge', actor: '张三' });
      await store.transition('a1', { action: 'assign', actor: '张三', assignee: '于都县市场监管局' });
      await store.transition('a1', { action: 'note', actor: '李四', note: '已电话联系' });
      const closed = await store.transition('a1', { action: 'close', actor: '李四', closeReason: '已处置' });
      expect(closed.status).toBe('closed');
      expect(closed.closeReason).toBe('已处置');
      const reopened = await store.transition('a1', { action: 'reopen', actor: '王五' });
      expect(reopened.status).toBe('acknowledged');
      expect(reopened.history.map((h) => `${h.action}:${h.actor}`)).toEqual([
        'acknowledge:张三',
        'assign:张三',
        'note:李四',
        'close:李四',
        'reopen:王五',
      ]);
      expect(reopened.version).toBe(6);
      expect((await store.getAlert('a1'))!.assignee).toBe('于都县市场监管局');
    });

    it('refuses transitions the workflow does not allow', async () => {
      await store.upsertAlerts([alert({ id: 'a1' })]);
      await expect(store.transition('a1', { action: 'reopen', actor: 'x' })).rejects.toBeInstanceOf(TransitionError);
      await expect(store.transition('a1', { action: 'close', actor: 'x', closeReason: '随便' })).rejects.toBeInstanceOf(TransitionError);
      await expect(store.transition('a1', { action: 'assign', actor: 'x' })).rejects.toBeInstanceOf(TransitionError);
      await expect(store.transition('missing', { action: 'acknowledge', actor: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    });

    it('two officers acting on one version: the second gets a conflict, nothing is lost', async () => {
      await store.upsertAlerts([alert({ id: 'a1' })]);
      const seen = (await store.getAlert('a1'))!.version;
      await store.transition('a1', { action: 'acknowledge', actor: '张三', expectedVersion: seen });
      await expect(store.transition('a1', { action: 'note', actor: '李四', note: '我来处理', expectedVersion: seen })).rejects.toBeInstanceOf(ConflictError);
      const a = (await store.getAlert('a1'))!;
      expect(a.history.map((h) => h.actor)).toEqual(['张三']);
    });

    it('aggregates items by category, region, level, term and business, optionally per day', async () => {
      const hit = (term: string, negated = false) => ({ rule: 'r', group: 'g', term, start: 0, end: term.length, weight: 1, negated });
      await store.upsertItems([
        ...items(),
        item({ id: 'i4', title: '于都县某餐馆投诉', body: '吃完拉肚子', kind: 'complaint', sourceId: 'hotline', regions: ['360731'], risk: true, level: '黄', category: '餐饮服务', publishedAt: '2026-11-28T05:00:00.000Z', fields: { 被投诉主体: '湘味小厨餐馆' }, hits: [hit('拉肚子'), hit('变质', true)] }),
        item({ id: 'i5', title: '于都县某餐馆再投诉', body: '又拉肚子', kind: 'complaint', sourceId: 'hotline', regions: ['360731'], risk: true, level: '黄', category: '餐饮服务', publishedAt: '2026-11-28T06:00:00.000Z', fields: { 被投诉主体: '湘味小厨餐馆' }, hits: [hit('拉肚子')] }),
      ]);
      const agg = (q: Parameters<Store['aggregate']>[0]) => store.aggregate(q);
      expect(await agg({ filter: {}, groupBy: 'category' })).toEqual([
        { key: '餐饮服务', count: 2 },
        { key: '假冒伪劣过期', count: 1 },
        { key: '校园食品安全', count: 1 },
      ]);
      expect(await agg({ filter: { risk: true }, groupBy: 'region' })).toEqual([
        { key: '360731', count: 3 },
        { key: '360102', count: 1 },
      ]);
      expect(await agg({ filter: {}, groupBy: 'level' })).toEqual([{ key: '黄', count: 3 }, { key: '红', count: 1 }]);
      expect(await agg({ filter: {}, groupBy: 'term' })).toEqual([{ key: '拉肚子', count: 2 }]);
      expect(await agg({ filter: { kind: ['complaint'] }, groupBy: 'business' })).toEqual([{ key: '湘味小厨餐馆', count: 2 }]);
      expect(await agg({ filter: { region: ['360700'] }, groupBy: 'category', interval: 'day' })).toEqual([
        { key: '餐饮服务', time: '2026-11-28T00:00:00.000Z', count: 2 },
        { key: '假冒伪劣过期', time: '2026-11-27T00:00:00.000Z', count: 1 },
      ]);
      expect(await agg({ filter: { category: ['餐饮服务'] }, groupBy: 'category', interval: 'hour' })).toEqual([
        { key: '餐饮服务', time: '2026-11-28T05:00:00.000Z', count: 1 },
        { key: '餐饮服务', time: '2026-11-28T06:00:00.000Z', count: 1 },
      ]);
      expect(await agg({ filter: {}, groupBy: 'source', size: 1 })).toEqual([{ key: 'hotline', count: 3 }]);
      expect(await agg({ filter: { from: '2030-01-01T00:00:00.000Z' }, groupBy: 'category', interval: 'day' })).toEqual([]);
    });

    it('counts items and alerts for stats', async () => {
      await store.upsertItems(items());
      await store.upsertAlerts([alert({ id: 'a1', level: '红' }), alert({ id: 'a2', level: '黄' }), alert({ id: 'a3', level: '黄' })]);
      await store.transition('a3', { action: 'acknowledge', actor: 'x' });
      const s = await store.stats();
      expect(s.items).toEqual({ total: 3, bySource: { 'jx-news': 1, hotline: 1, samr: 1 }, byKind: { news: 1, complaint: 1, notice: 1 } });
      expect(s.alerts).toEqual({ total: 3, byLevel: { 红: 1, 黄: 2 }, byStatus: { new: 2, acknowledged: 1 } });
    });
  });
}
