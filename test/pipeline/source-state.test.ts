import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawItem } from '../../src/core/types.ts';
import { contentHash } from '../../src/core/ids.ts';
import { hashOf, SourceState } from '../../src/pipeline/source-state.ts';
import { openDatabase, type Db } from '../../src/store/sqlite-db.ts';

const item = (id: string, body = '内容', over: Partial<RawItem> = {}): RawItem => ({
  id,
  sourceId: 'hotline-12315',
  kind: 'complaint',
  title: '投诉：某某餐饮店',
  body,
  publishedAt: '2026-11-28T02:00:00.000Z',
  fetchedAt: '2026-11-28T02:05:00.000Z',
  fields: { 登记编号: id },
  ...over,
});

const dbs: Db[] = [];
function state(): SourceState {
  const db = openDatabase(path.join(mkdtempSync(path.join(tmpdir(), 'sentinel-source-state-')), 'state.db'));
  dbs.push(db);
  return new SourceState(db);
}
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

const ids = (items: RawItem[]) => items.map((it) => `${it.id}:${it.body}`);

describe('source state: what is fresh', () => {
  it('everything is fresh the first time; the same items again are duplicates', () => {
    const s = state();
    const poll = [item('a'), item('b')];
    expect(s.fresh(poll)).toEqual({ fresh: poll, duplicates: 0 });
    s.markSeen(poll);
    expect(s.fresh([item('a'), item('b')])).toEqual({ fresh: [], duplicates: 2 });
  });

  it('an item whose content changed is fresh again; a new one beside it too', () => {
    const s = state();
    s.markSeen([item('a'), item('b')]);
    const r = s.fresh([item('a', '补充了新的内容'), item('b'), item('c')]);
    expect(ids(r.fresh)).toEqual(['a:补充了新的内容', 'c:内容']);
    expect(r.duplicates).toBe(1);
  });

  it('any part of the content counts: title, region, url and fields', () => {
    const s = state();
    const base = item('a', '内容', { regionHint: '360702' });
    s.markSeen([base]);
    const changes: Partial<RawItem>[] = [{ title: '投诉：另一家店' }, { regionHint: '360111' }, { url: 'https://example.org/a' }, { fields: { 登记编号: 'a', 处理状态: '已办结' } }];
    for (const over of changes) expect(s.fresh([{ ...base, ...over }]).fresh).toHaveLength(1);
    expect(s.fresh([{ ...base, publishedAt: '2026-11-29T00:00:00.000Z' }]).duplicates).toBe(1);
  });

  it('an id repeated within one poll is published once, in its first version', () => {
    const s = state();
    const r = s.fresh([item('a', '一'), item('b'), item('a', '二'), item('a', '一')]);
    expect(ids(r.fresh)).toEqual(['a:一', 'b:内容']);
    expect(r.duplicates).toBe(2);
  });

  it('looks up large polls completely (more ids than one lookup query holds)', () => {
    const s = state();
    const seen = Array.from({ length: 1234 }, (_, k) => item(`i${k}`));
    s.markSeen(seen.filter((_, k) => k % 3 === 0));
    const r = s.fresh(Array.from({ length: 1300 }, (_, k) => item(`i${k}`, k % 7 === 0 ? '改过' : '内容')));
    const expected = Array.from({ length: 1300 }, (_, k) => k).filter((k) => k % 3 !== 0 || k % 7 === 0 || k >= 1234);
    expect(r.fresh.map((it) => it.id)).toEqual(expected.map((k) => `i${k}`));
    expect(r.duplicates).toBe(1300 - expected.length);
  });

  it('remembers the last version marked seen', () => {
    const s = state();
    s.markSeen([item('a', '一'), item('a', '二')]);
    expect(s.fresh([item('a', '二')]).duplicates).toBe(1);
    expect(s.fresh([item('a', '一')]).fresh).toHaveLength(1);
  });

  it('marks what fresh() found changed with its new content', () => {
    const s = state();
    s.markSeen([item('a', '一')]);
    const { fresh } = s.fresh([item('a', '二')]);
    s.markSeen(fresh);
    expect(s.fresh([item('a', '二')]).duplicates).toBe(1);
    expect(s.fresh([item('a', '一')]).fresh).toHaveLength(1);
  });

  it('compares an item object polled again after it changed by its new content', () => {
    const s = state();
    const it = item('a', '一');
    s.markSeen([it]);
    it.body = '二';
    expect(s.fresh([it]).fresh).toEqual([it]);
    s.markSeen([it]);
    it.body = '三';
    expect(s.fresh([it]).fresh).toEqual([it]);
    it.body = '二';
    expect(s.fresh([it]).duplicates).toBe(1);
  });
});

describe('source state: content hash', () => {
  it('is contentHash of title, body, url, region and fields, so hashes stored before still match', () => {
    const items = [
      item('a'),
      item('b', '', { title: '', fields: {} }),
      item('c', '正文\n第二行', { url: 'https://example.org/c', regionHint: '360702', fields: { 联系电话: '138****5678', 地址: '南昌' } }),
      // lone surrogates next to the part boundaries must not pair up across them
      item('d', '\udc00开头', { title: '结尾\ud800', regionHint: '\ud83d', url: '\ude00' }),
    ];
    for (const it of items) {
      expect(hashOf(it)).toBe(contentHash(it.title, it.body, it.url ?? '', it.regionHint ?? '', JSON.stringify(it.fields)));
    }
  });
});
