import { describe, it, expect, beforeAll } from 'vitest';
import { resolve } from 'node:path';
import { offlineProcessor } from '../../src/cli/toolkit.ts';
import type { Processor } from '../../src/pipeline/process.ts';
import type { RawItem } from '../../src/core/types.ts';
import { alertFor } from '../../src/alerts/raise.ts';

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
    expect(s.tokens.length).toBeGreaterThan(10);
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
