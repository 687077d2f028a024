import { describe, it, expect } from 'vitest';
import type { ScoredItem } from '../../src/core/types.ts';
import { BusinessTracker, businessKey, businessName, trackedItem, REPEAT_THRESHOLD, REPEAT_WINDOW_MS } from '../../src/alerts/business.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T02:00:00Z');

/** A hotline complaint as the process stage leaves it (only the fields the tracker reads matter). */
function complaint(n: number, business: string, day: number, over: Partial<ScoredItem> = {}): ScoredItem {
  const at = new Date(T0 + day * DAY).toISOString();
  return {
    id: `i-${n}`, sourceId: 'hotline-12315', kind: 'complaint', title: `投诉：${business}`, body: '吃了以后拉肚子',
    publishedAt: at, fetchedAt: at, fields: { 被投诉主体: business }, text: '', tokens: '', simhash: '0000000000000000',
    regions: ['360102'], category: '餐饮服务', score: 5, level: '蓝', risk: true, hits: [], explanation: [], processedAt: at,
    ...over,
  };
}

describe('businessKey', () => {
  it('drops the region prefix, punctuation, width and one legal-form suffix, for matching only', () => {
    expect(businessKey('南昌市东湖区湘味小厨餐馆')).toBe('湘味小厨餐馆');
    expect(businessKey(' 湘味小厨餐馆 ')).toBe('湘味小厨餐馆');
    expect(businessKey('赣州市章贡区惠万家生鲜超市（文清路店）')).toBe(businessKey('惠万家生鲜超市文清路店'));
    expect(businessKey('江西赣味食品有限公司')).toBe(businessKey('江西赣味食品有限责任公司'));
    expect(businessKey('ＡＢＣ烘焙店')).toBe('ABC烘焙');
  });

  it('keeps names that merely contain place-like characters', () => {
    expect(businessKey('好又多超市')).toBe('好又多超市');
    expect(businessKey('抚州市临川区城西华润万佳超市')).toBe('城西华润万佳超市');
  });

  it('reads 被投诉主体 or its structured variants', () => {
    expect(businessName({ fields: { '被投诉主体.名称': ' 佳和超市 ' } })).toBe('佳和超市');
    expect(businessName({ fields: {} })).toBeNull();
  });
});

describe('BusinessTracker', () => {
  it(`signals at the ${REPEAT_THRESHOLD}rd complaint within 30 days, even when each is only 蓝`, () => {
    const t = new BusinessTracker();
    expect(t.observe(complaint(1, '南昌市东湖区湘味小厨餐馆', 0))).toBeNull();
    expect(t.observe(complaint(2, '湘味小厨餐馆', 10))).toBeNull();
    const s = t.observe(complaint(3, '东湖区湘味小厨餐馆', 20))!;
    expect(s).toMatchObject({ count: 3, itemIds: ['i-1', 'i-2', 'i-3'], region: '360102', key: '湘味小厨餐馆' });
    expect(s.note).toContain('30天内收到针对“东湖区湘味小厨餐馆”的投诉举报3件');
    // a fourth keeps the same signal id with a higher count
    expect(t.observe(complaint(4, '湘味小厨餐馆', 21))).toMatchObject({ id: s.id, count: 4 });
  });

  it('signals the same from what a restart keeps of each item as from the whole items', () => {
    const items = [
      complaint(1, '南昌市东湖区湘味小厨餐馆', 0, { fields: { '被投诉主体.名称': '南昌市东湖区湘味小厨餐馆', 登记编号: 'x' } }),
      complaint(2, '湘味小厨餐馆', 3, { regions: ['360102', '360100'] }),
      complaint(3, '湘味小厨餐馆', 5, { kind: 'news' }),
      complaint(4, '湘味小厨餐馆', 9, { category: null }),
      complaint(5, '湘味小厨 餐馆', 12),
    ];
    const whole = new BusinessTracker();
    const slim = new BusinessTracker();
    const signals = items.map((it) => [whole.observe(it), slim.observe(trackedItem(it))]);
    for (const [a, b] of signals) expect(b).toEqual(a);
    expect(signals.at(-1)![0]?.count).toBe(3);
  });

  it('is idempotent for the same item id seen twice', () => {
    const t = new BusinessTracker();
    t.observe(complaint(1, '佳和超市', 0));
    t.observe(complaint(2, '佳和超市', 1));
    expect(t.observe(complaint(2, '佳和超市', 1))).toBeNull();
    expect(t.countFor('佳和超市')).toBe(2);
  });

  it('complaints further apart than the window do not add up', () => {
    const t = new BusinessTracker();
    t.observe(complaint(1, '佳和超市', 0));
    t.observe(complaint(2, '佳和超市', 29));
    expect(t.observe(complaint(3, '佳和超市', 31))).toBeNull();
    expect(t.observe(complaint(4, '佳和超市', 32))).toMatchObject({ count: 3, itemIds: ['i-2', 'i-3', 'i-4'] });
  });

  it('counts the same name in another county separately, and ignores non-food complaints and news', () => {
    const t = new BusinessTracker();
    t.observe(complaint(1, '蜜雪冰城', 0, { regions: ['360102'] }));
    t.observe(complaint(2, '蜜雪冰城', 1, { regions: ['360731'] }));
    t.observe(complaint(3, '蜜雪冰城', 2, { category: null, risk: false, level: null }));
    t.observe(complaint(4, '蜜雪冰城', 3, { kind: 'news' }));
    expect(t.observe(complaint(5, '蜜雪冰城', 4, { regions: ['360102'] }))).toBeNull();
    expect(t.observe(complaint(6, '蜜雪冰城', 5, { regions: ['360102'] }))).toMatchObject({ count: 3 });
  });

  it('counts by when complaints happened, even when they arrive out of order', () => {
    const t = new BusinessTracker({ threshold: 3 });
    t.observe(complaint(3, '佳和超市', 20));
    t.observe(complaint(1, '佳和超市', 0));
    expect(t.observe(complaint(2, '佳和超市', 10))).toMatchObject({ itemIds: ['i-1', 'i-2', 'i-3'] });
  });

  it('evict forgets complaints older than the window', () => {
    const t = new BusinessTracker();
    t.observe(complaint(1, '佳和超市', 0));
    t.evict(T0 + REPEAT_WINDOW_MS + DAY);
    expect(t.countFor('佳和超市')).toBe(0);
  });
});

describe('BusinessTracker bounds', () => {
  it('tracks at most MAX_TRACKED_BUSINESSES business files, forgetting the oldest opened first', async () => {
    const { MAX_TRACKED_BUSINESSES } = await import('../../src/alerts/business.ts');
    const t = new BusinessTracker();
    for (let i = 0; i <= MAX_TRACKED_BUSINESSES; i++) t.observe(complaint(i, `第${i}号小吃店`, 0));
    expect(t.countFor('第0号小吃店')).toBe(0);
    expect(t.countFor(`第${MAX_TRACKED_BUSINESSES}号小吃店`)).toBe(1);
    // A file still held keeps counting to the threshold.
    for (let k = 1; k < REPEAT_THRESHOLD; k++) t.observe(complaint(1_000_000 + k, `第${MAX_TRACKED_BUSINESSES}号小吃店`, k));
    expect(t.observe(complaint(2_000_000, `第${MAX_TRACKED_BUSINESSES}号小吃店`, 3))?.count).toBe(REPEAT_THRESHOLD + 1);
  });
});
