import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ScoredItem } from '../../src/core/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { computeTrends, evaluateTrendRules, ewma, poissonUpperTail, spikeTest, DEFAULT_SPIKE } from '../../src/alerts/trends.ts';
import { loadTrendRuleFile, loadTrendRules, type TrendRule } from '../../src/config/trends.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { tempDir } from '../helpers/tmp.ts';
import { mulberry32 } from '../helpers/rng.ts';

/** Every generated stream is the same on every run. */
const rng = mulberry32;

/** Poisson draw by inversion: fine for the small rates of one category per hour. */
function poisson(r: () => number, lambda: number): number {
  let k = 0;
  let p = Math.exp(-lambda);
  let s = p;
  const u = r();
  while (u > s && k < 1000) {
    k++;
    p *= lambda / k;
    s += p;
  }
  return k;
}

const NOW = new Date('2026-11-29T16:00:00.000Z'); // 00:00 Beijing, 30 Nov
const HOUR = 3600_000;

let seq = 0;
function item(at: number, over: Partial<ScoredItem> & { term?: string; business?: string } = {}): ScoredItem {
  const id = `g${++seq}`;
  const term = over.term ?? '变质';
  const text = `测试条目${id}：${term}`;
  const { term: _t, business, ...rest } = over;
  return {
    id,
    sourceId: over.kind === 'complaint' ? 'hotline-12315' : 'jxnews',
    kind: 'news',
    title: `测试条目${id}`,
    body: term,
    publishedAt: new Date(at).toISOString(),
    fetchedAt: new Date(at).toISOString(),
    fields: business ? { 被投诉主体: business } : {},
    text,
    tokens: `测试 条目 ${term}`,
    simhash: '0000000000000000',
    regions: ['360102'],
    category: '餐饮服务',
    score: 6,
    level: '黄',
    risk: true,
    hits: [{ rule: 'gen', group: 'defect', term, start: text.indexOf(term), end: text.indexOf(term) + term.length, weight: 3, negated: false }],
    explanation: [],
    processedAt: new Date(at).toISOString(),
    ...rest,
  };
}

const CATEGORIES = ['餐饮服务', '食品销售', '校园食品安全', '食用农产品', '网络食品'];
const REGIONS = ['360102', '360111', '360702', '361102'];
const TERMS = ['变质', '过期', '异物', '腹泻', '无证经营', '发霉'];

/** Eight days of background noise: every category at its own steady hourly rate. */
function noise(seed: number, days = 8): ScoredItem[] {
  const r = rng(seed);
  const out: ScoredItem[] = [];
  const rates = [0.6, 0.4, 0.15, 0.3, 0.25];
  for (let h = days * 24; h >= 1; h--) {
    const at = NOW.getTime() - h * HOUR + Math.floor(r() * HOUR * 0.9);
    CATEGORIES.forEach((category, i) => {
      for (let k = poisson(r, rates[i]!); k > 0; k--) {
        out.push(item(at, { category, regions: [REGIONS[Math.floor(r() * REGIONS.length)]!], term: TERMS[Math.floor(r() * TERMS.length)]! }));
      }
    });
  }
  return out;
}

async function storeWith(items: ScoredItem[]): Promise<SqliteStore> {
  const store = new SqliteStore(openDatabase(':memory:'), { tokenize: (t) => t.split(/\s+/) });
  await store.upsertItems(items);
  return store;
}

const spikeRule = (over: Partial<Record<string, unknown>> = {}): TrendRule =>
  ({
    id: 'category-spike',
    name: '风险类别日突增',
    type: 'spike',
    group_by: 'category',
    filter: {},
    window: 24 * HOUR,
    baseline_windows: 7,
    alpha: 0.3,
    z: 3,
    p: 0.001,
    small_mean: 10,
    min_count: 5,
    ratio: 2,
    level: '橙',
    ...over,
  }) as TrendRule;

describe('the spike statistics', () => {
  it('EWMA follows a flat series exactly and a step gradually', () => {
    expect(ewma([5, 5, 5, 5], 0.3)).toEqual({ mean: 5, variance: 0 });
    const step = ewma([0, 0, 0, 10], 0.3);
    expect(step.mean).toBeCloseTo(3, 10);
    expect(step.variance).toBeGreaterThan(0);
  });

  it('Poisson upper tail matches hand-computed values', () => {
    expect(poissonUpperTail(0, 3)).toBe(1);
    expect(poissonUpperTail(1, 2)).toBeCloseTo(1 - Math.exp(-2), 12);
    // P(X ≥ 3 | λ = 1) = 1 − e⁻¹(1 + 1 + 1/2)
    expect(poissonUpperTail(3, 1)).toBeCloseTo(1 - Math.exp(-1) * 2.5, 12);
    expect(poissonUpperTail(40, 2)).toBeLessThan(1e-20);
  });

  it('small numbers never fire, however unusual', () => {
    // 0 → 4 is wildly improbable under λ = 0.5 but below min_count
    const r = spikeTest(4, [0, 0, 0, 0, 0, 0, 0]);
    expect(r.p).toBeLessThan(0.01);
    expect(r.fires).toBe(false);
  });

  it('uses the Poisson tail on a small baseline and the z-score on a large one', () => {
    const small = spikeTest(12, [2, 3, 1, 2, 2, 3, 2]);
    expect(small.method).toBe('poisson');
    expect(small.fires).toBe(true);
    const large = spikeTest(90, [40, 42, 38, 41, 39, 40, 43]);
    expect(large.method).toBe('z');
    expect(large.z).toBeGreaterThan(3);
    expect(large.fires).toBe(true);
    // a 25% rise on a large, steady baseline is neither 2× nor z ≥ 3
    expect(spikeTest(50, [40, 42, 38, 41, 39, 40, 43]).fires).toBe(false);
  });

  it('needs the ratio as well as significance', () => {
    const noisy = [30, 10, 35, 12, 28, 9, 31];
    expect(spikeTest(45, noisy, { ...DEFAULT_SPIKE }).fires).toBe(false);
  });
});

describe('trend rules over a generated stream with known truth', () => {
  it('finds a planted spike and nothing else', async () => {
    seq = 0;
    const base = noise(7);
    // truth: 校园食品安全 jumps from ~3.6/day to 3.6 + 20 in the last 24 h
    const planted = Array.from({ length: 20 }, (_, i) => item(NOW.getTime() - (i + 1) * 50 * 60_000, { category: '校园食品安全', term: '呕吐' }));
    const store = await storeWith([...base, ...planted]);
    const signals = await evaluateTrendRules(store, [spikeRule()], NOW);
    expect(signals.map((s) => s.key)).toEqual(['校园食品安全']);
    expect(signals[0]).toMatchObject({ rule: 'category-spike', level: '橙', type: 'spike' });
    expect(signals[0]!.count).toBeGreaterThanOrEqual(20);
    expect(signals[0]!.message).toMatch(/^类别「校园食品安全」1 天内 \d+ 条，基线/);
  });

  it('stays silent on flat noise, over many independent streams', async () => {
    let fired = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      seq = 0;
      const store = await storeWith(noise(seed * 101));
      const rules = [spikeRule(), spikeRule({ id: 'term-spike', group_by: 'term' }), spikeRule({ id: 'region-spike', group_by: 'region' })];
      fired += (await evaluateTrendRules(store, rules, NOW)).length;
    }
    expect(fired).toBe(0);
  });

  it('frequency: a business complained about 3 times in 7 days', async () => {
    seq = 0;
    const c = (daysAgo: number, business: string) => item(NOW.getTime() - daysAgo * 24 * HOUR, { kind: 'complaint', business });
    const store = await storeWith([c(1, '湘味小厨餐馆'), c(3, '湘味小厨餐馆'), c(6, '湘味小厨餐馆'), c(9, '好又多超市'), c(2, '好又多超市'), c(1, '好又多超市')]);
    const rule = { id: 'business-repeat', name: '同一经营主体多次被投诉', type: 'frequency', group_by: 'business', filter: { kind: ['complaint'] }, window: 7 * 24 * HOUR, threshold: 3, level: '黄' } as TrendRule;
    const signals = await evaluateTrendRules(store, [rule], NOW);
    expect(signals.map((s) => [s.key, s.count])).toEqual([['湘味小厨餐馆', 3]]);
  });

  it('frequency without group_by counts every matching item together', async () => {
    seq = 0;
    const store = await storeWith([1, 2, 3].map((h) => item(NOW.getTime() - h * HOUR, { category: '校园食品安全' })));
    const rule = { id: 'school', name: '校园', type: 'frequency', filter: { category: ['校园食品安全'] }, window: 24 * HOUR, threshold: 3, level: '橙' } as TrendRule;
    expect((await evaluateTrendRules(store, [rule], NOW)).map((s) => [s.key, s.count])).toEqual([['全部', 3]]);
    expect(await evaluateTrendRules(store, [{ ...rule, threshold: 4 } as TrendRule], NOW)).toEqual([]);
  });

  it('new_term: a term never seen in the previous 30 days appearing 3 times', async () => {
    seq = 0;
    const old = [20, 10, 5].map((d) => item(NOW.getTime() - d * 24 * HOUR, { term: '变质' }));
    const fresh = [1, 2, 3].map((h) => item(NOW.getTime() - h * HOUR, { term: '瘦肉精' }));
    const again = [1, 2, 3].map((h) => item(NOW.getTime() - h * HOUR, { term: '变质' }));
    const twice = [1, 2].map((h) => item(NOW.getTime() - h * HOUR, { term: '苏丹红' }));
    const store = await storeWith([...old, ...fresh, ...again, ...twice]);
    const rule = { id: 'new-term', name: '新词', type: 'new_term', field: 'term', filter: {}, window: 24 * HOUR, lookback: 30 * 24 * HOUR, min_count: 3, level: '黄' } as TrendRule;
    const signals = await evaluateTrendRules(store, [rule], NOW);
    expect(signals.map((s) => s.key)).toEqual(['瘦肉精']);
  });

  it('a county region narrows what counts', async () => {
    seq = 0;
    const inDonghu = [1, 2, 3].map((h) => item(NOW.getTime() - h * HOUR, { regions: ['360102'] }));
    const elsewhere = [1, 2, 3].map((h) => item(NOW.getTime() - h * HOUR, { regions: ['360702'] }));
    const store = await storeWith([...inDonghu, ...elsewhere]);
    const rule = { id: 'f', name: 'f', type: 'frequency', filter: {}, window: 24 * HOUR, threshold: 4, level: '黄' } as TrendRule;
    expect(await evaluateTrendRules(store, [rule], NOW)).toHaveLength(1);
    expect(await evaluateTrendRules(store, [rule], NOW, '360102')).toHaveLength(0);
  });
});

describe('computeTrends (GET /api/v1/trends)', () => {
  it('puts the planted category and term on top, and fills series and the heat table', async () => {
    seq = 0;
    const planted = Array.from({ length: 20 }, (_, i) => item(NOW.getTime() - (i + 1) * 50 * 60_000, { category: '校园食品安全', term: '呕吐', regions: ['360702'] }));
    const store = await storeWith([...noise(7), ...planted]);
    const v = await computeTrends(store, { window: '24h', now: NOW });
    expect(v.rising.categories[0]!.key).toBe('校园食品安全');
    expect(v.rising.categories[0]!.fires).toBe(true);
    expect(v.rising.terms[0]!.key).toBe('呕吐');
    expect(v.newTerms.map((k) => k.key)).toContain('呕吐');
    expect(v.series.interval).toBe('hour');
    expect(v.series.times).toHaveLength(24);
    const school = v.series.series.find((s) => s.key === '校园食品安全')!;
    expect(school.data.reduce((a, b) => a + b, 0)).toBe(v.rising.categories[0]!.count);
    const { regions, categories, cells } = v.byRegionCategory;
    expect(regions).toContain('360700'); // 赣州市: counties rolled up to the city
    const ganzhou = cells[regions.indexOf('360700')]![categories.indexOf('校园食品安全')]!;
    expect(ganzhou).toBeGreaterThanOrEqual(20);
    expect(cells.flat().reduce((a, b) => a + b, 0)).toBe(v.total);
  });

  it('uses daily buckets for 7 and 30 days', async () => {
    seq = 0;
    const store = await storeWith(noise(3));
    const week = await computeTrends(store, { window: '7d', now: NOW });
    expect(week.series.interval).toBe('day');
    // 7 × 24 h ending at 16:00 UTC touch 8 UTC days: the first and the last partly
    expect(week.series.times).toHaveLength(8);
    expect(week.series.times[0]! <= week.from).toBe(true);
    expect(week.series.times.at(-1)! < week.to).toBe(true);
    const perDay = week.series.series.reduce((sum, s) => sum + s.data.reduce((a, b) => a + b, 0), 0);
    expect(perDay).toBe(week.total);
  });
});

describe('rules/trends/*.yaml', () => {
  it('the bundled rules load', () => {
    const rules = loadTrendRules(resolve('rules/trends'));
    expect(rules.map((r) => r.id).sort()).toEqual(['business-repeat', 'category-spike', 'new-business', 'new-term', 'school-frequency', 'term-spike']);
  });

  it('names file, line and field for a bad option', () => {
    const t = tempDir('trends-');
    try {
      const file = join(t.dir, 'bad.yaml');
      writeFileSync(file, 'id: x-spike\nname: 突增\ntype: spike\ngroup_by: category\nwindow: 1 week\n');
      expect(() => loadTrendRuleFile(file)).toThrow(ConfigError);
      expect(() => loadTrendRuleFile(file)).toThrow(`${file}:5: window: expected a duration`);
      writeFileSync(file, 'id: x\nname: x\ntype: burst\nwindow: 24h\n');
      expect(() => loadTrendRuleFile(file)).toThrow(`${file}:3: type: unknown trend rule type 'burst'; expected one of frequency, spike, new_term`);
      writeFileSync(file, 'id: x\nname: x\ntype: frequency\nwindow: 24h\nthreshold: 3\nthreshhold: 4\n');
      expect(() => loadTrendRuleFile(file)).toThrow(`${file}:6: threshhold: unknown field 'threshhold'`);
      writeFileSync(file, 'id: x\nname: x\ntype: new_term\nfield: product\nwindow: 24h\n');
      expect(() => loadTrendRuleFile(file)).toThrow(`${file}:4: field:`);
    } finally {
      t.cleanup();
    }
  });

  it('refuses two files with one id', () => {
    const t = tempDir('trends-');
    try {
      mkdirSync(t.dir, { recursive: true });
      for (const f of ['a.yaml', 'b.yaml']) writeFileSync(join(t.dir, f), 'id: same\nname: x\ntype: frequency\nwindow: 24h\nthreshold: 3\n');
      expect(() => loadTrendRules(t.dir)).toThrow(/b\.yaml:1: id: duplicate trend rule id 'same'/);
    } finally {
      t.cleanup();
    }
  });
});
