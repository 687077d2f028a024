import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuleEngine, type RuleEngine } from '../../src/scoring/engine.ts';
import { COMMON, SCHOOL_RULE, rulesDir } from './rules-dir.ts';

const SALES_RULE = `
id: sales
name: 销售
category: 食品销售
terms:
  place: { any: [超市], weight: 2 }
  problem: { any: [变质, 发霉], weight: 3 }
  ad: { any: [虚假广告], weight: 1 }
when: place and problem
unless: [广告]
levels: { 橙: 12, 黄: 6 }
tests:
  - text: 超市面包发霉
    expect: { match: true }
`;

const CALENDAR = `
periods:
  - name: 开学季
    dates: [{ from: "09-01", to: "09-15" }]
    multipliers: { 校园食品安全: 1.5 }
  - name: 中秋
    dates: [{ from: "2026-09-20", to: "2026-09-26" }]
    multipliers: { 食品销售: 1.2 }
    focus: { terms: [月饼], multiplier: 2 }
`;

let engine: RuleEngine;
let cleanup: () => Promise<void>;
const OFF_SEASON = new Date('2026-05-10T04:00:00Z');

beforeAll(async () => {
  const d = await rulesDir({ common: COMMON + '\nlevels: { 红: 20, 橙: 12, 黄: 7, 蓝: 4 }\n', calendar: CALENDAR, risk: { 'school.yaml': SCHOOL_RULE, 'sales.yaml': SALES_RULE } });
  cleanup = d.cleanup;
  engine = await loadRuleEngine(d.dir, { now: () => OFF_SEASON });
});
afterAll(() => cleanup());

const score = (text: string, extra: Partial<Parameters<RuleEngine['score']>[0]> = {}) => engine.score({ text, kind: 'news', at: OFF_SEASON, ...extra });
const explain = (text: string, rule = 'school', extra = {}) => score(text, extra).explanation.find((e) => e.rule === rule);

describe('RuleEngine.score', () => {
  it('raises the best rule with its category, level, hits and a readable reason', () => {
    const r = score('学校食堂多名学生呕吐腹泻');
    expect(r).toMatchObject({ risk: true, level: '橙', category: '校园食品安全' });
    // place 3 + 0.25×3 (学生) = 3.75; harm 5 + 0.25×5 = 6.25; scale 2
    expect(r.score).toBe(12);
    expect(r.hits.map((h) => [h.group, h.term, h.start, h.end])).toEqual([
      ['place', '学校食堂', 0, 4],
      ['scale', '多名', 4, 6],
      ['place', '学生', 6, 8],
      ['harm', '呕吐', 8, 10],
      ['harm', '腹泻', 10, 12],
    ]);
    const ex = r.explanation[0]!;
    expect(ex).toMatchObject({ rule: 'school', name: '校园', matched: true, level: '橙', score: 12, base: 12, kindWeight: 1, sourceWeight: 1 });
    expect(ex.reason).toContain('学校食堂');
    expect(ex.reason).toContain('橙');
    expect(ex['thresholds']).toEqual({ 红: 20, 橙: 12, 黄: 7, 蓝: 4 });
  });

  it('returns no risk and no explanation for a text without any term', () => {
    expect(score('今天天气很好')).toEqual({ risk: false, level: null, category: null, score: 0, hits: [], explanation: [] });
  });

  it('uses per-term weights: a death pushes a single case to 红', () => {
    expect(score('学校一名学生呕吐后死亡').level).toBe('红');
  });

  it('counts a term once however often it repeats, but reports every occurrence', () => {
    const r = score('学校食堂呕吐呕吐呕吐');
    expect(r.hits.filter((h) => h.term === '呕吐')).toHaveLength(3);
    expect(r.score).toBe(8);
  });

  it('leaves a matched rule unlevelled below its lowest threshold', () => {
    const r = score('超市面包发霉');
    expect(r).toMatchObject({ risk: false, level: null, category: null, score: 5 });
    expect(explain('超市面包发霉', 'sales')).toMatchObject({ matched: true, level: null, score: 5 });
    expect(explain('超市面包发霉', 'sales')!.reason).toContain('未达到最低阈值 6');
  });
});

describe('negation', () => {
  it('does not count a term right after a cue', () => {
    const r = score('学校食堂未发现呕吐');
    expect(r.risk).toBe(false);
    expect(r.hits.find((h) => h.term === '呕吐')).toMatchObject({ negated: true });
    expect(explain('学校食堂未发现呕吐')!['negated']).toEqual([{ term: '呕吐', cue: '未发现', start: 7 }]);
  });

  it('stops at the window edge', () => {
    expect(score('学校食堂没有通风设备那间屋里有学生呕吐').risk).toBe(true);
  });

  it('stops at a clause boundary', () => {
    expect(score('学校食堂未发现异常，呕吐').risk).toBe(true);
  });

  it('ignores a cue inside a longer phrase that is not a negation', () => {
    const r = score('学校食堂吃完没多久就呕吐');
    expect(r.hits.find((h) => h.term === '呕吐')!.negated).toBe(false);
  });
});

describe('exclusions', () => {
  it('drops a rule when its own exclusion appears', () => {
    const ex = explain('学校食堂食物中毒应急演练：多名学生呕吐');
    expect(ex).toMatchObject({ matched: false, level: null, excludedBy: ['演练'] });
    expect(ex!.reason).toContain('排除词');
  });

  it('applies the common exclusions to every rule', () => {
    expect(score('学校食堂知识竞赛：学生呕吐怎么办').risk).toBe(false);
  });

  it('lets a longer term shadow an exclusion inside it', () => {
    expect(explain('超市发霉面包打虚假广告', 'sales')!.excludedBy).toEqual([]);
    expect(explain('超市发霉面包打广告', 'sales')!.excludedBy).toEqual(['广告']);
  });
});

describe('proximity', () => {
  const far = '学校食堂' + '，今天的天气和昨天差不多，风也不大，' + '呕吐';
  it('requires the when groups within near characters', () => {
    const ex = explain(far)!;
    expect(ex.matched).toBe(false);
    expect(ex.reason).toContain('20 字内');
  });
  it('matches when they are close', () => {
    expect(explain('天气很好。学校食堂有人呕吐')).toMatchObject({ matched: true, window: { start: 5, end: 13 } });
  });
});

describe('weights', () => {
  it('multiplies by the item kind weight', () => {
    expect(score('学校食堂呕吐', { kind: 'complaint' }).score).toBe(12);
    expect(score('学校食堂呕吐').score).toBe(8);
  });
  it('multiplies by the source weight from the pipeline', () => {
    const r = score('学校食堂呕吐', { sourceWeight: 0.5 });
    expect(r.score).toBe(4);
    expect(r.explanation[0]!['sourceWeight']).toBe(0.5);
  });
  it('ignores a nonsensical source weight and caps a huge one', () => {
    expect(score('学校食堂呕吐', { sourceWeight: Number.NaN }).score).toBe(8);
    expect(score('学校食堂呕吐', { sourceWeight: 1e305 }).score).toBe(80);
  });
});

describe('calendar boosts', () => {
  it('boosts the period’s categories on Beijing dates inside it', () => {
    const r = score('学校食堂呕吐', { at: new Date('2026-09-03T02:00:00Z') });
    expect(r.score).toBe(12);
    expect(r.explanation[0]!['calendar']).toMatchObject({ factor: 1.5 });
    expect(r.explanation[0]!.reason).toContain('开学季');
  });
  it('uses Beijing time: 17:00 UTC on 31 Aug is already 1 Sep', () => {
    expect(score('学校食堂呕吐', { at: new Date('2026-08-31T17:00:00Z') }).score).toBe(12);
    expect(score('学校食堂呕吐', { at: new Date('2026-08-31T15:00:00Z') }).score).toBe(8);
  });
  it('leaves other categories alone', () => {
    expect(explain('超市面包变质发霉', 'sales', { at: new Date('2026-09-03T02:00:00Z') })!['calendar']).toMatchObject({ factor: 1 });
  });
  it('applies a focus term’s multiplier to any category during its period', () => {
    const at = new Date('2026-09-22T02:00:00Z');
    expect(explain('超市月饼变质发霉', 'sales', { at })!['calendar']).toMatchObject({ factor: 2 });
    expect(explain('超市面包变质发霉', 'sales', { at })!['calendar']).toMatchObject({ factor: 1.2 });
  });
  it('falls back to the engine clock when the input has no date', async () => {
    const d = await rulesDir({ common: COMMON, calendar: CALENDAR, risk: { 'school.yaml': SCHOOL_RULE } });
    const e = await loadRuleEngine(d.dir, { now: () => new Date('2026-09-05T00:00:00Z') });
    expect(e.score({ text: '学校食堂呕吐', kind: 'news' }).score).toBe(12);
    expect(e.loadedAt).toBe('2026-09-05T00:00:00.000Z');
    await d.cleanup();
  });
});

describe('limits', () => {
  it('scans only the first scan_chars characters and says so', async () => {
    const d = await rulesDir({ common: COMMON + '\nlimits: { scan_chars: 30 }\n', risk: { 'school.yaml': SCHOOL_RULE } });
    const e = await loadRuleEngine(d.dir);
    const r = e.score({ text: '学校食堂呕吐' + '。'.repeat(40) + '学生腹泻', kind: 'news' });
    expect(r.hits.map((h) => h.term)).toEqual(['学校食堂', '呕吐']);
    expect(r.explanation[0]).toMatchObject({ truncated: true, scanned: 30 });
    expect(r.explanation[0]!.reason).toContain('仅扫描前 30 字');
    await d.cleanup();
  });
});

describe('engine metadata', () => {
  it('lists rules and every term for the segmenter', () => {
    expect(engine.rules).toEqual([
      { id: 'sales', name: '销售', category: '食品销售' },
      { id: 'school', name: '校园', category: '校园食品安全' },
    ]);
    for (const t of ['学校食堂', '虚假广告', '演练', '知识竞赛', '未发现', '没多久', '月饼']) expect(engine.terms).toContain(t);
  });
});

describe('topic exclusions, override and term context', () => {
  const RULE = `
id: canteen
name: 食堂
category: 校园食品安全
terms:
  place: { any: [幼儿园, 学校], weight: 6 }
  harm: { any: [呕吐, 腹泻], weight: 5 }
  scale: { any: [多名, 好几个], weight: 2 }
  defect: { any: [发霉, 坏了], weight: 4, context: { groups: [food], within: 4, only: [坏了] } }
  food: { any: [牛奶, 面包], weight: 0 }
when: place and (harm or defect)
override: harm and scale
tests:
  - text: 幼儿园面包发霉
    expect: { match: true }
`;
  let eng: RuleEngine;
  let done: () => Promise<void>;
  beforeAll(async () => {
    const d = await rulesDir({ common: 'unless: [演练]\nunless_topic: { head: 6, terms: [食谱] }\n', risk: { 'canteen.yaml': RULE } });
    done = d.cleanup;
    eng = await loadRuleEngine(d.dir, { now: () => OFF_SEASON });
  });
  afterAll(() => done());
  const run = (text: string, title?: string) => eng.score({ text: title ? `${title}\n${text}` : text, kind: 'news', at: OFF_SEASON, ...(title ? { title } : {}) });

  it('a topic word excludes only in the title or the head of the body', () => {
    expect(run('本周食谱公布，幼儿园面包发霉已处理').risk).toBe(false);
    expect(run('幼儿园面包发霉，家长要求公开本周的食谱').risk).toBe(true);
    const titled = run('幼儿园面包发霉', '秋季食谱');
    expect(titled.risk).toBe(false);
    expect(titled.explanation[0]!.excludedBy).toEqual(['食谱']);
  });

  it('strong evidence (override) outweighs a topic word but never a hard exclusion', () => {
    const r = run('食谱调整后幼儿园多名孩子呕吐');
    expect(r.risk).toBe(true);
    expect(r.explanation[0]!['overriddenExclusions']).toEqual(['食谱']);
    expect(r.explanation[0]!.reason).toContain('被强证据「harm and scale」推翻');
    expect(run('演练：幼儿园多名孩子呕吐').risk).toBe(false);
  });

  it('a generic term counts only with its context group nearby; other terms of the group need none', () => {
    expect(run('幼儿园的牛奶坏了').risk).toBe(true);
    const r = run('幼儿园门口的路灯坏了');
    expect(r.risk).toBe(false);
    expect(r.explanation[0]!['unmetContext']).toEqual([{ term: '坏了', start: 8, needs: ['food'] }]);
    expect(r.explanation[0]!.reason).toContain('「坏了」附近没有food');
    expect(run('幼儿园面包发霉').risk).toBe(true);
  });

  it('rejects a context naming an unknown group, naming the file and field', async () => {
    const bad = RULE.replace('groups: [food]', 'groups: [foods]');
    const d = await rulesDir({ risk: { 'bad.yaml': bad } });
    await expect(loadRuleEngine(d.dir)).rejects.toThrow(/bad\.yaml:\d+: terms\.defect\.context\.groups\[0\]: unknown group 'foods'/);
    await d.cleanup();
  });
});

describe('words in ASCII case', () => {
  const RULE = `
id: delivery
name: 外卖
category: 餐饮服务
terms:
  channel: { any: [app订餐, 外卖], weight: 3, context: { groups: [harm], within: 6, only: [App订餐] } }
  harm: { any: [腹泻, 呕吐], weight: 5 }
when: channel and harm
tests:
  - text: APP订餐后腹泻
    expect: { match: true }
`;
  let eng: RuleEngine;
  let done: () => Promise<void>;
  beforeAll(async () => {
    const d = await rulesDir({ risk: { 'delivery.yaml': RULE } });
    done = d.cleanup;
    eng = await loadRuleEngine(d.dir, { now: () => OFF_SEASON });
  });
  afterAll(() => done());
  const run = (text: string, detail: 'full' | 'compact' = 'full') => eng.score({ text, kind: 'news', at: OFF_SEASON }, { detail });

  it('reports a term as the text wrote it, and limits a context to a term in any case', () => {
    for (const detail of ['full', 'compact'] as const) {
      const near = run('App订餐后腹泻，又腹泻', detail);
      expect(near.risk).toBe(true);
      expect(near.score).toBe(8);
      expect(near.hits.map((h) => h.term)).toEqual(['App订餐', '腹泻', '腹泻']);
      // The context restriction names 「App订餐」: written 「app订餐」 far from any harm, it does not count.
      expect(run('app订餐的那家店很远，邻居说孩子昨晚就开始腹泻', detail).risk).toBe(false);
    }
    expect(run('app订餐的那家店很远，邻居说孩子昨晚就开始腹泻').explanation[0]!['unmetContext']).toEqual([{ term: 'app订餐', start: 0, needs: ['harm'] }]);
  });

  it('rejects one word in two groups even when they write it in different ASCII case', async () => {
    const bad = RULE.replace('  harm: { any: [腹泻, 呕吐], weight: 5 }', '  harm: { any: [腹泻, 呕吐, APP订餐], weight: 5 }');
    const d = await rulesDir({ risk: { 'bad.yaml': bad } });
    await expect(loadRuleEngine(d.dir)).rejects.toThrow(/bad\.yaml:\d+: terms\.harm: term 'APP订餐' is in both groups channel \(as 'app订餐'\) and harm/);
    await d.cleanup();
  });
});
