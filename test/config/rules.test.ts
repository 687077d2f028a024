import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { CATEGORIES, loadRuleSet } from '../../src/config/rules.ts';
import { COMMON, SCHOOL_RULE, rulesDir } from '../scoring/rules-dir.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** 1-based line of the first line containing `needle`. */
const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

async function loadError(files: { common?: string; calendar?: string; risk: Record<string, string> }): Promise<{ err: ConfigError; dir: string }> {
  const d = await rulesDir(files);
  cleanups.push(d.cleanup);
  try {
    await loadRuleSet(d.dir);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return { err: e as ConfigError, dir: d.dir };
  }
  throw new Error('expected the rules to fail loading');
}

async function ruleError(yaml: string): Promise<ConfigError> {
  const { err, dir } = await loadError({ common: COMMON, risk: { 'school.yaml': yaml } });
  expect(err.file).toBe(path.join(dir, 'risk', 'school.yaml'));
  return err;
}

describe('loadRuleSet', () => {
  it('loads a valid folder with shared vocabularies, per-term weights and tests', async () => {
    const d = await rulesDir({
      common: COMMON + '\nvocab: { harm: [发热, 发烧] }\n',
      risk: { 'school.yaml': SCHOOL_RULE.replace('harm: { any: [', 'harm: { include: [harm], any: [') },
    });
    cleanups.push(d.cleanup);
    const set = await loadRuleSet(d.dir);
    const rule = set.rules[0]!;
    expect(rule).toMatchObject({ id: 'school', category: '校园食品安全', near: 20, negationWindow: 6, levels: { 红: 20, 橙: 12, 黄: 7, 蓝: 4 } });
    expect(rule.groups.find((g) => g.name === 'harm')!.terms).toEqual([
      { term: '发热', weight: 5 },
      { term: '发烧', weight: 5 },
      { term: '呕吐', weight: 5 },
      { term: '腹泻', weight: 5 },
      { term: '死亡', weight: 16 },
    ]);
    expect(rule.kindWeights).toEqual({ news: 1, complaint: 1.5, notice: 1 });
    expect(rule.tests[0]).toMatchObject({ index: 0, kind: 'news', text: '学校食堂饭菜变质', expect: { match: true, level: '黄' } });
    expect(set.common.negation.cues).toEqual(['未发现', '没有', '辟谣']);
  });

  it('normalises rule terms like text (traditional and full-width are folded)', async () => {
    const d = await rulesDir({ risk: { 'school.yaml': SCHOOL_RULE.replace('[呕吐, 腹泻', '[嘔吐, ＩＣＵ, 腹泻') } });
    cleanups.push(d.cleanup);
    const set = await loadRuleSet(d.dir);
    expect(set.rules[0]!.groups[1]!.terms.map((t) => t.term)).toEqual(['呕吐', 'ICU', '腹泻', '死亡']);
  });

  it('names file and line for invalid YAML', async () => {
    const yaml = SCHOOL_RULE.replace('when: place and (harm or defect)', 'when: [place and harm');
    const err = await ruleError(yaml);
    expect(err.message).toMatch(/school\.yaml:\d+: invalid YAML/);
    expect(err.line).toBeGreaterThanOrEqual(lineOf(yaml, 'when:'));
  });

  it('rejects an unknown key, naming the key and its line', async () => {
    const yaml = SCHOOL_RULE.replace('near: 20', 'nearby: 20');
    const err = await ruleError(yaml);
    expect(err.message).toBe(`${err.file}:${lineOf(yaml, 'nearby')}: nearby: unknown key 'nearby'`);
  });

  it('rejects a misspelt key inside a group', async () => {
    const yaml = SCHOOL_RULE.replace('defect: { any: [变质, 虫子], weight: 4 }', 'defect: { any: [变质, 虫子], wieght: 4 }');
    const err = await ruleError(yaml);
    expect(err.field).toBe('terms.defect.wieght');
    expect(err.line).toBe(lineOf(yaml, 'wieght'));
  });

  it('rejects a wrong type, naming the field path', async () => {
    const yaml = SCHOOL_RULE.replace('scale: { any: [多名], weight: 2 }', 'scale: { any: [多名], weight: 很多 }');
    const err = await ruleError(yaml);
    expect(err.message).toBe(`${err.file}:${lineOf(yaml, '很多')}: terms.scale.weight: expected a number, got string`);
  });

  it('rejects a group in when that terms does not define', async () => {
    const yaml = SCHOOL_RULE.replace('when: place and (harm or defect)', 'when: place and (harn or defect)');
    const err = await ruleError(yaml);
    expect(err.field).toBe('when');
    expect(err.line).toBe(lineOf(yaml, 'when:'));
    expect(err.problem).toContain("unknown group 'harn'");
  });

  it('rejects a when expression that does not parse', async () => {
    const err = await ruleError(SCHOOL_RULE.replace('when: place and (harm or defect)', 'when: place and (harm or'));
    expect(err.field).toBe('when');
    expect(err.problem).toContain('expected a group name');
  });

  it('rejects a category outside the taxonomy', async () => {
    const yaml = SCHOOL_RULE.replace('category: 校园食品安全', 'category: 校园集中供餐');
    const err = await ruleError(yaml);
    expect(err.message).toContain(`school.yaml:${lineOf(yaml, 'category:')}: category: unknown category '校园集中供餐'`);
  });

  it('rejects level thresholds that do not descend', async () => {
    const yaml = SCHOOL_RULE.replace('levels: { 红: 20, 橙: 12, 黄: 7, 蓝: 4 }', 'levels: { 红: 20, 橙: 12, 黄: 14, 蓝: 4 }');
    const err = await ruleError(yaml);
    expect(err.field).toBe('levels.黄');
    expect(err.line).toBe(lineOf(yaml, 'levels:'));
    expect(err.problem).toContain('thresholds must descend');
  });

  it('rejects an unknown level name', async () => {
    const err = await ruleError(SCHOOL_RULE.replace('levels: { 红: 20,', 'levels: { 紫: 30, 红: 20,'));
    expect(err.field).toBe('levels.紫');
  });

  it('rejects a rule file without tests', async () => {
    const yaml = SCHOOL_RULE.slice(0, SCHOOL_RULE.indexOf('tests:')) + 'tests: []\n';
    const err = await ruleError(yaml);
    expect(err.field).toBe('tests');
    expect(err.problem).toContain('at least one test');
  });

  it('rejects a test expecting a level from a non-match', async () => {
    const err = await ruleError(SCHOOL_RULE.replace('expect: { match: true, level: 黄 }', 'expect: { match: false, level: 黄 }'));
    expect(err.field).toBe('tests[0].expect.level');
  });

  it('rejects the same term in two groups of one rule', async () => {
    const err = await ruleError(SCHOOL_RULE.replace('defect: { any: [变质, 虫子]', 'defect: { any: [变质, 呕吐]'));
    expect(err.problem).toContain("term '呕吐' is in both groups harm and defect");
  });

  it('rejects an unknown shared vocabulary', async () => {
    const err = await ruleError(SCHOOL_RULE.replace('scale: { any: [多名]', 'scale: { include: [people], any: [多名]'));
    expect(err.field).toBe('terms.scale.include[0]');
    expect(err.problem).toContain("unknown vocabulary 'people'");
  });

  it('rejects duplicate rule ids across files', async () => {
    const { err } = await loadError({ risk: { 'a.yaml': SCHOOL_RULE, 'b.yaml': SCHOOL_RULE } });
    expect(err.file).toMatch(/b\.yaml$/);
    expect(err.problem).toContain("duplicate rule id 'school'");
  });

  it('checks common.yaml keys too', async () => {
    const { err } = await loadError({ common: 'negation:\n  windw: 3\n', risk: { 'school.yaml': SCHOOL_RULE } });
    expect(err.message).toMatch(/common\.yaml:2: negation\.windw: unknown key 'windw'$/);
  });

  it('checks calendar dates and categories', async () => {
    const bad = 'periods:\n  - name: 中秋\n    dates: [{ from: "2026-09-31", to: "2026-10-01" }]\n';
    const { err } = await loadError({ calendar: bad, risk: { 'school.yaml': SCHOOL_RULE } });
    expect(err.message).toMatch(/calendar\.yaml:3: periods\[0\]\.dates\[0\]\.from: expected a date/);
    const cat = 'periods:\n  - name: 中秋\n    dates: [{ from: "09-01", to: "09-02" }]\n    multipliers: { 月饼: 1.2 }\n';
    const r = await loadError({ calendar: cat, risk: { 'school.yaml': SCHOOL_RULE } });
    expect(r.err.message).toMatch(/calendar\.yaml:4: periods\[0\]\.multipliers\.月饼: unknown category '月饼'/);
  });

  it('exports the category taxonomy', () => {
    expect(CATEGORIES).toHaveLength(17);
    expect(CATEGORIES).toContain('三防设施');
  });
});
