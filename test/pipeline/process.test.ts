import { describe, it, expect, beforeAll } from 'vitest';
import { resolve } from 'node:path';
import { offlineProcessor } from '../../src/cli/toolkit.ts';
import type { Processor } from '../../src/pipeline/process.ts';
import type { RawItem } from '../../src/core/types.ts';
import { alertFor } from '../../src/alerts/raise.ts';
import { tokenCount } from '../../src/text/tokens.ts';

const raw = (over: Partial<RawItem>): RawItem => ({
  id: 'i1',
  sourceId: 'hotline-12315',
  kind: 'complaint',
  title: '',
  body: '',
  publishedAt: '2026-11-28T02:00:00.000Z',
  fetchedAt: '2026-11-28T02:05:00.000Z',
  fields: {},
  ...over,
});

describe('process stage', () => {
  let process: Processor;
  beforeAll(async () => {
    ({ process } = await offlineProcessor(resolve('rules')));
  });

  it('normalises, segments, finds regions, scores and hashes one item', () => {
    const s = process(raw({ title: '投诉：于都县某小吃店', body: '在这家店吃了米粉后全家三口上吐下泻，去医院打了吊针，怀疑食材变质。' }));
    expect(s.text.startsWith('投诉:于都县某小吃店\n') || s.text.startsWith('投诉：于都县某小吃店\n')).toBe(true);
    expect(tokenCount(s.tokens)).toBeGreaterThan(10);
    expect(s.tokens.split(' ')).toContain('米粉');
    expect(s.simhash).toMatch(/^[0-9a-f]{16}$/);
    expect(s.regions[0]).toBe('360731');
    expect(s.risk).toBe(true);
    expect(s.hits.length).toBeGreaterThan(0);
    for (const h of s.hits) expect(s.text.slice(h.start, h.end)).toBe(h.term);
  });

  it('a hotline region field wins over the text', () => {
    const s = process(raw({ title: '投诉', body: '我在南昌买的面包发霉了', regionHint: '360731' }));
    expect(s.regions[0]).toBe('360731');
  });

  it('a consultation (诉求类型 咨询) counts half of the same words as a complaint', () => {
    const body = '我在超市买到的牛奶已经过期了，喝了以后拉肚子。';
    const complaint = process(raw({ body, fields: { 诉求类型: '投诉' } }));
    const question = process(raw({ body, fields: { 诉求类型: '咨询' } }));
    expect(complaint.score).toBeGreaterThan(0);
    expect(question.score).toBeLessThan(complaint.score);
  });

  it('the same text raises the same alert id; noise raises none', () => {
    const a = process(raw({ id: 'x1', title: '某小学食堂学生午餐后集体呕吐', body: '32名学生送医。', kind: 'news', sourceId: 'a' }));
    const b = process(raw({ id: 'x2', title: '某小学食堂学生午餐后集体呕吐', body: '32名学生送医。', kind: 'news', sourceId: 'b' }));
    expect(alertFor(a, '黄')!.id).toBe(alertFor(b, '黄')!.id);
    const noise = process(raw({ title: '我县开展食品安全宣传周活动', body: '活动现场发放宣传资料三千份。', kind: 'notice' }));
    expect(alertFor(noise, '黄')).toBeNull();
  });
});

describe('a source region', () => {
  it('places items that name no place, and never overrides a place the text names', async () => {
    const { createProcessor } = await import('../../src/pipeline/process.ts');
    const { loadRuleEngine } = await import('../../src/scoring/engine.ts');
    const { createSegmenter } = await import('../../src/text/segment.ts');
    const { createRegionResolver } = await import('../../src/text/regions.ts');
    const engine = await loadRuleEngine(resolve('rules'));
    const p = createProcessor({
      engine: () => engine,
      segmenter: createSegmenter(),
      regions: createRegionResolver({ province: '360000' }),
      sourceRegion: (id) => (id === 'yudu-gov' ? '360731' : undefined),
    });
    expect(p(raw({ sourceId: 'yudu-gov', kind: 'notice', title: '桥头乡农贸市场快检发现韭菜农药残留超标', body: '已全部销毁。' })).regions).toEqual(['360731']);
    expect(p(raw({ sourceId: 'yudu-gov', kind: 'notice', title: '瑞金市开展食品安全检查', body: '' })).regions).toEqual(['360781']);
    expect(p(raw({ sourceId: 'other', kind: 'notice', title: '某乡农贸市场快检发现韭菜农药残留超标', body: '' })).regions).toEqual([]);
  });
});

describe('the scored item', () => {
  it('keeps every field of the raw item as it came', async () => {
    const { createProcessor, RAW_FIELDS_COPIED } = await import('../../src/pipeline/process.ts');
    const { loadRuleEngine } = await import('../../src/scoring/engine.ts');
    const { createSegmenter } = await import('../../src/text/segment.ts');
    const { createRegionResolver } = await import('../../src/text/regions.ts');
    const { RawItem } = await import('../../src/core/types.ts');
    const engine = await loadRuleEngine(resolve('rules'));
    const p = createProcessor({ engine: () => engine, segmenter: createSegmenter(), regions: createRegionResolver({ province: '360000' }) });
    const full = RawItem.parse({
      id: 'h-1',
      sourceId: 'hotline-12315',
      kind: 'complaint',
      title: '超市卖过期牛奶',
      body: '在于都县某超市买的牛奶已过期三天。',
      url: 'https://example.gov.cn/12315/1',
      publishedAt: '2026-11-28T09:00:00.000Z',
      fetchedAt: '2026-11-28T09:05:00.000Z',
      regionHint: '于都县',
      fields: { 被投诉主体: '某超市', 诉求类型: '投诉' },
    });
    // Every field the schema knows is set above, so none can be dropped unnoticed.
    expect(Object.keys(full).sort()).toEqual(Object.keys(RawItem.shape).sort());
    expect([...RAW_FIELDS_COPIED].sort()).toEqual(Object.keys(RawItem.shape).sort());
    const scored = p(full);
    for (const key of Object.keys(RawItem.shape)) expect({ key, value: scored[key as keyof typeof scored] }).toEqual({ key, value: full[key as keyof typeof full] });
  });
});

describe('the batch processor', () => {
  it('scores a batch exactly as it scores each item alone', async () => {
    const { createProcessor, createBatchProcessor } = await import('../../src/pipeline/process.ts');
    const { loadRuleEngine } = await import('../../src/scoring/engine.ts');
    const { createSegmenter } = await import('../../src/text/segment.ts');
    const { createRegionResolver } = await import('../../src/text/regions.ts');
    const { corpus } = await import('../bench/corpus.ts');
    const engine = await loadRuleEngine(resolve('rules'));
    const clock = () => new Date('2026-11-29T08:00:00.000Z');
    const deps = {
      engine: () => engine,
      segmenter: createSegmenter({ dictDir: resolve('rules/dict'), extraWords: engine.terms }),
      regions: createRegionResolver({ province: '360000' }),
      sourceWeight: (id: string) => (id.startsWith('hotline') ? 1.2 : 1),
      sourceRegion: (id: string) => (id === 'yudu-gov' ? '360731' : undefined),
      now: clock,
    };
    const items = corpus(300, { seed: 11 });
    items[3] = { ...items[3]!, sourceId: 'yudu-gov', publishedAt: 'not a date' };
    const one = createProcessor(deps);
    const batch = createBatchProcessor(deps);
    const byBatch = [...batch(items.slice(0, 128)), ...batch(items.slice(128)), ...batch([])];
    expect(byBatch).toEqual(items.map(one));
    expect(byBatch.filter((s) => s.risk).length).toBeGreaterThan(10);
  });
});
