import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleEngine } from '../../src/scoring/engine.ts';
import { buildUserDict, dictWords } from '../../src/scoring/dict.ts';
import { COMMON, SCHOOL_RULE, rulesDir } from './rules-dir.ts';

const RULES = path.resolve(import.meta.dirname, '../../rules');

describe('buildUserDict', () => {
  it('writes one `word freq tag` line per term, sorted, single characters left to jieba', async () => {
    const d = await rulesDir({ common: COMMON, risk: { 'school.yaml': SCHOOL_RULE } });
    const dict = buildUserDict(await loadRuleEngine(d.dir));
    await d.cleanup();
    const lines = dict.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toContain('学校食堂 2000 nz');
    expect(lines.every((l) => /^\S{2,} \d+ nz$/.test(l))).toBe(true);
    expect([...lines].sort()).toEqual(lines);
  });
});

describe('rules/dict/user.dict', () => {
  it('holds every term of the real rules (regenerate: npx tsx src/scoring/dict.ts rules)', async () => {
    const engine = await loadRuleEngine(RULES);
    const words = dictWords(await readFile(path.join(RULES, 'dict', 'user.dict'), 'utf8'));
    const missing = engine.terms.filter((t) => t.length > 1 && !words.has(t));
    expect(missing).toEqual([]);
  });

  it('ships a stop-word list', async () => {
    const stop = (await readFile(path.join(RULES, 'dict', 'stopwords.txt'), 'utf8')).split('\n').filter(Boolean);
    expect(stop).toContain('的');
    expect(new Set(stop).size).toBe(stop.length);
  });
});
