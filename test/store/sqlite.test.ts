import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { openDatabase, type Db } from '../../src/store/sqlite-db.ts';
import { AlertQuery, ItemQuery } from '../../src/core/query.ts';
import { alert } from '../conformance/store.suite.ts';
import { LEVELS, type ScoredItem } from '../../src/core/types.ts';
import { mulberry32 } from '../helpers/rng.ts';
import { tempDir } from '../helpers/tmp.ts';
import { joinTokens, splitTokens } from '../../src/text/tokens.ts';

/*
 * What the embedded store adds to the conformance suite: item rows keyed by publication time,
 * filters answered by the full-text index, counts that stop at a cap, documents stored without
 * their tokens, and stores written by the previous layout.
 */

// Queries split on spaces and items carry the words of their title, so a test controls both sides.
const tokenize = (t: string) => t.split(/\s+/).filter(Boolean);

function item(over: Partial<ScoredItem> & { id: string; title: string }): ScoredItem {
  return {
    sourceId: 'jx-news',
    kind: 'news',
    body: '',
    publishedAt: '2026-11-28T02:00:00.000Z',
    fetchedAt: '2026-11-28T02:05:00.000Z',
    fields: {},
    text: over.title,
    tokens: joinTokens(tokenize(over.title)),
    simhash: '0000000000000000',
    regions: [],
    category: null,
    score: 0,
    level: null,
    risk: false,
    hits: [],
    explanation: [],
    processedAt: '2026-11-28T02:05:01.000Z',
    ...over,
  };
}

let t: { dir: string; cleanup: () => void };
let db: Db;
let store: SqliteStore;
const open = (opts: { countCap?: number } = {}) => {
  db = openDatabase(join(t.dir, 'store.db'));
  store = new SqliteStore(db, { tokenize, ...opts });
  return store;
};
beforeEach(() => {
  t = tempDir();
});
afterEach(async () => {
  await store?.close();
  t.cleanup();
});

const ids = async (q: Record<string, unknown>) => (await store.searchItems(ItemQuery.parse(q))).items.map((i) => i.id);

describe('items in publication order', () => {
  it('pages newest first by publication time, whatever order the items arrived in', async () => {
    open();
    await store.upsertItems([
      item({ id: 'mid', title: 'x', publishedAt: '2026-11-20T00:00:00.000Z' }),
      item({ id: 'old', title: 'x', publishedAt: '2026-11-01T00:00:00.000Z' }),
    ]);
    await store.upsertItems([item({ id: 'new', title: 'x', publishedAt: '2026-11-28T00:00:00.000Z' })]);
    expect(await ids({})).toEqual(['new', 'mid', 'old']);
    expect(await ids({ q: 'x' })).toEqual(['new', 'mid', 'old']);
  });

  it('keeps every item of one publication instant, the later arrival first, beyond a thousand of them', async () => {
    open();
    const at = '2026-11-28T08:00:00.000Z';
    const many = Array.from({ length: 1_100 }, (_, i) => item({ id: `same-${i}`, title: '同时', publishedAt: at }));
    for (let i = 0; i < many.length; i += 200) await store.upsertItems(many.slice(i, i + 200));
    const page = await store.searchItems(ItemQuery.parse({ q: '同时', limit: 3 }));
    expect(page.total).toBe(1_100);
    expect(page.items.map((i) => i.id)).toEqual(['same-1099', 'same-1098', 'same-1097']);
    // 256 keys per millisecond and level: the rest sort, and fall in time ranges, as if a millisecond later
    expect((await store.searchItems(ItemQuery.parse({ from: at, to: at }))).total).toBe(256);
    expect((await store.searchItems(ItemQuery.parse({ from: at }))).total).toBe(1_100);
  });

  it('treats both ends of a time range as inclusive, to the millisecond', async () => {
    open();
    await store.upsertItems([
      item({ id: 'a', title: 'x', publishedAt: '2026-11-28T08:00:00.000Z' }),
      item({ id: 'b', title: 'x', publishedAt: '2026-11-28T08:00:00.001Z' }),
      item({ id: 'c', title: 'x', publishedAt: '2026-11-28T08:00:00.002Z' }),
    ]);
    expect(await ids({ from: '2026-11-28T08:00:00.001Z', to: '2026-11-28T08:00:00.001Z' })).toEqual(['b']);
    expect(await ids({ q: 'x', from: '2026-11-28T08:00:00.001Z' })).toEqual(['c', 'b']);
    expect(await ids({ q: 'x', to: '2026-11-28T08:00:00.001Z' })).toEqual(['b', 'a']);
  });

  it('stores items published long ago or far ahead and still finds them', async () => {
    open();
    await store.upsertItems([
      item({ id: 'ancient', title: 'x', publishedAt: '1000-01-01T00:00:00.000Z' }),
      item({ id: 'future', title: 'x', publishedAt: '9999-12-31T00:00:00.000Z' }),
      item({ id: 'now', title: 'x', publishedAt: '2026-11-28T00:00:00.000Z' }),
    ]);
    expect(await ids({ q: 'x' })).toEqual(['future', 'now', 'ancient']);
    expect((await store.getItem('ancient'))?.publishedAt).toBe('1000-01-01T00:00:00.000Z');
  });
});

describe('upserting an item again', () => {
  it('moves it when its publication time changed: found in the new range only, once', async () => {
    open();
    await store.upsertItems([item({ id: 'a', title: '牛奶 过期', publishedAt: '2026-11-01T00:00:00.000Z' })]);
    await store.upsertItems([item({ id: 'a', title: '牛奶 过期', publishedAt: '2026-11-20T00:00:00.000Z' })]);
    expect(await ids({ q: '过期', to: '2026-11-10T00:00:00.000Z' })).toEqual([]);
    expect(await ids({ q: '过期', from: '2026-11-10T00:00:00.000Z' })).toEqual(['a']);
    expect((await store.searchItems(ItemQuery.parse({}))).total).toBe(1);
    expect((await store.getItem('a'))?.publishedAt).toBe('2026-11-20T00:00:00.000Z');
  });

  it('replaces what it is found by: old words, level and region no longer find it', async () => {
    open();
    await store.upsertItems([item({ id: 'a', title: '牛奶 过期', level: '红', risk: true, regions: ['360731'] })]);
    await store.upsertItems([item({ id: 'a', title: '面包 发霉', level: '黄', risk: true, regions: ['360102'] })]);
    expect(await ids({ q: '过期' })).toEqual([]);
    expect(await ids({ level: '红' })).toEqual([]);
    expect(await ids({ region: '360700' })).toEqual([]);
    expect(await ids({ q: '发霉', level: '黄', region: '360100' })).toEqual(['a']);
  });

  it('keeps the last copy when one batch carries an id twice', async () => {
    open();
    await store.upsertItems([item({ id: 'a', title: '第一版' }), item({ id: 'a', title: '第二版' })]);
    expect(await ids({ q: '第一版' })).toEqual([]);
    expect(await ids({ q: '第二版' })).toEqual(['a']);
    expect((await store.getItem('a'))?.title).toBe('第二版');
  });
});

describe('documents', () => {
  it('gives back the complete ScoredItem, tokens included, though the document does not hold them', async () => {
    open();
    const it1 = item({ id: 'a', title: '某小学 食堂 学生 呕吐', level: '红', risk: true, regions: ['360102'], fields: { 被投诉主体: '某食堂' } });
    const empty = { ...item({ id: 'b', title: '' }), tokens: '' };
    await store.upsertItems([it1, empty]);
    expect(await store.getItem('a')).toEqual(it1);
    expect(await store.getItem('b')).toEqual(empty);
    expect(await store.getItems(['b', 'nope', 'a'])).toEqual([empty, it1]);
    const { doc } = db.prepare("SELECT doc FROM item_docs d JOIN items i ON d.rowid = i.doc_key WHERE i.id = 'a'").get() as { doc: string };
    expect(JSON.parse(doc)).not.toHaveProperty('tokens');
    expect((await store.searchItems(ItemQuery.parse({ q: '食堂' }))).items).toEqual([it1]);
  });

  it('reads tokens written before they were joined by spaces, and joins a list an older record brings', async () => {
    open();
    // A scored record published by an older version (a list), stored as the joined form.
    const listed = { ...item({ id: 'old-bus', title: '过期 牛奶' }), tokens: ['过期', '牛奶'] as unknown as string };
    await store.upsertItems([listed, item({ id: 'col', title: 'x' }), item({ id: 'doc', title: 'y' })]);
    expect((await store.getItem('old-bus'))!.tokens).toBe('过期 牛奶');
    expect((await store.searchItems(ItemQuery.parse({ q: '牛奶' }))).items.map((i) => i.id)).toEqual(['old-bus']);
    // Rows of an older store: the column joined by U+001F, or (a token held it) the list in the document.
    const rowid = (id: string) => (db.prepare('SELECT doc_key FROM items WHERE id = ?').get(id) as { doc_key: number }).doc_key;
    db.prepare('UPDATE item_docs SET tokens = ? WHERE rowid = ?').run('某小学\u001f食堂\u001f呕吐', rowid('col'));
    const { doc } = db.prepare('SELECT doc FROM item_docs WHERE rowid = ?').get(rowid('doc')) as { doc: string };
    db.prepare('UPDATE item_docs SET tokens = ?, doc = ? WHERE rowid = ?').run('a\u001fb', JSON.stringify({ ...JSON.parse(doc), tokens: ['a\u001fb', '', 'c d'] }), rowid('doc'));
    expect((await store.getItem('col'))!.tokens).toBe('某小学 食堂 呕吐');
    expect((await store.getItem('doc'))!.tokens).toBe('a\u001fb c d');
  });

  it('indexes each distinct word of an item once, and still gives back every token in order', async () => {
    open();
    const repeated = item({ id: 'r', title: '食堂 学生 食堂 呕吐 食堂 学生' });
    await store.upsertItems([repeated, item({ id: 's', title: '学生 体检' })]);
    db.exec("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, 'items_fts', 'row')");
    const postings = Object.fromEntries((db.prepare('SELECT term, doc, cnt FROM temp.words').all() as { term: string; doc: number; cnt: number }[]).map((r) => [r.term, [r.doc, r.cnt]]));
    expect(postings['食堂']).toEqual([1, 1]);
    expect(postings['学生']).toEqual([2, 2]);
    expect((await store.getItem('r'))!.tokens).toBe('食堂 学生 食堂 呕吐 食堂 学生');
    expect(await ids({ q: '食堂 呕吐' })).toEqual(['r']);
    expect((await ids({ q: '学生' })).sort()).toEqual(['r', 's']);
  });
});

describe('counting', () => {
  const stored = (n: number) => Array.from({ length: n }, (_, i) => item({ id: `i${i}`, title: '过期', publishedAt: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString() }));

  it('counts exactly up to the cap past the offset, then gives a lower bound and says so', async () => {
    open({ countCap: 5 });
    await store.upsertItems(stored(12));
    const first = await store.searchItems(ItemQuery.parse({ q: '过期', limit: 2 }));
    expect(first).toMatchObject({ total: 5, totalCapped: true });
    const later = await store.searchItems(ItemQuery.parse({ q: '过期', limit: 2, offset: 6 }));
    expect(later).toMatchObject({ total: 11, totalCapped: true });
    const last = await store.searchItems(ItemQuery.parse({ q: '过期', limit: 2, offset: 8 }));
    expect(last.total).toBe(12);
    expect(last).not.toHaveProperty('totalCapped');
    expect((await store.searchItems(ItemQuery.parse({ limit: 2 }))).totalCapped).toBe(true);
  });

  it('a capped total still says there is more than the page, so paging by total reads every match', async () => {
    open({ countCap: 3 });
    await store.upsertItems(stored(25));
    const seen: string[] = [];
    for (let offset = 0; ; offset += 10) {
      const page = await store.searchItems(ItemQuery.parse({ q: '过期', limit: 10, offset }));
      seen.push(...page.items.map((i) => i.id));
      if (offset + 10 >= page.total) break;
    }
    expect(new Set(seen).size).toBe(25);
  });
});

describe('every filter combination answers what a plain filter over the items answers', () => {
  const WORDS = ['过期', '发霉', '呕吐', '食堂', '超市', '牛奶'];
  const REGIONS = ['360102', '360111', '360731', '360702', '361130', '440106', '360000'];
  const SOURCES = ['jx-news', 'hotline', 'samr'];
  const CATEGORIES = ['校园食品安全', '假冒伪劣过期', '餐饮服务'];
  const KINDS = ['news', 'complaint', 'notice'] as const;
  const DAY = 86_400_000;
  const END = Date.UTC(2026, 10, 29);

  function corpus(n: number): ScoredItem[] {
    const r = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    return Array.from({ length: n }, (_, i) => {
      const words = WORDS.filter(() => r() < 0.35);
      const level = r() < 0.4 ? pick(LEVELS) : null;
      return item({
        id: `c${i}`,
        title: words.join(' '),
        tokens: words.join(' '),
        level,
        risk: level !== null,
        regions: r() < 0.1 ? [] : r() < 0.2 ? [pick(REGIONS), pick(REGIONS)] : [pick(REGIONS)],
        kind: pick(KINDS),
        sourceId: pick(SOURCES),
        category: r() < 0.2 ? null : pick(CATEGORIES),
        // a few share an instant, most do not
        publishedAt: new Date(END - Math.floor(r() * 30) * DAY - (r() < 0.1 ? 0 : Math.floor(r() * DAY))).toISOString(),
      });
    });
  }

  const under = (codes: string[], region: string) => {
    const c = region.padEnd(6, '0').slice(0, 6);
    const p = c.endsWith('0000') ? c.slice(0, 2) : c.endsWith('00') ? c.slice(0, 4) : c;
    return codes.some((code) => code.startsWith(p));
  };

  it('for keyword, level, region, time, kind, risk, source and category, alone and together', async () => {
    open();
    const all = corpus(600);
    for (let i = 0; i < all.length; i += 200) await store.upsertItems(all.slice(i, i + 200));
    const r = mulberry32(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const some = <T>(xs: readonly T[]): T[] => {
      const out = xs.filter(() => r() < 0.4);
      return out.length ? out : [pick(xs)];
    };
    for (let k = 0; k < 150; k++) {
      const q: Record<string, unknown> = { limit: 20 };
      if (r() < 0.6) q.q = some(WORDS).slice(0, 2).join(' ');
      if (r() < 0.5) q.level = r() < 0.5 ? LEVELS.slice(0, 1 + Math.floor(r() * 4)) : some(LEVELS);
      if (r() < 0.5) q.region = r() < 0.8 ? [pick([...REGIONS, '360100', '360700', '361100'])] : some(REGIONS);
      if (r() < 0.5) {
        q.from = new Date(END - Math.floor(r() * 30) * DAY).toISOString();
        if (r() < 0.5) q.to = new Date(Date.parse(q.from as string) + Math.floor(r() * 10) * DAY).toISOString();
      }
      if (r() < 0.2) q.kind = some(KINDS);
      if (r() < 0.2) q.risk = r() < 0.5 ? 'true' : 'false';
      if (r() < 0.2) q.source = some(SOURCES);
      if (r() < 0.2) q.category = some(CATEGORIES);
      const parsed = ItemQuery.parse(q);
      const expected = all
        .filter(
          (it) =>
            (!parsed.q || tokenize(parsed.q).every((w) => splitTokens(it.tokens).includes(w))) &&
            (!parsed.level || (it.level !== null && parsed.level.includes(it.level))) &&
            (!parsed.region || parsed.region.some((reg) => under(it.regions, reg))) &&
            (!parsed.from || it.publishedAt >= parsed.from) &&
            (!parsed.to || it.publishedAt <= parsed.to) &&
            (!parsed.kind || parsed.kind.includes(it.kind)) &&
            (parsed.risk === undefined || it.risk === parsed.risk) &&
            (!parsed.source || parsed.source.includes(it.sourceId)) &&
            (!parsed.category || (it.category !== null && parsed.category.includes(it.category))),
        );
      // newest first; of one instant the more severe first, then the later arrival (higher index)
      const band = (it: ScoredItem) => (it.level ? LEVELS.indexOf(it.level) : LEVELS.length);
      expected.sort((a, b) => b.publishedAt.localeCompare(a.publishedAt) || band(a) - band(b) || Number(b.id.slice(1)) - Number(a.id.slice(1)));
      const page = await store.searchItems(parsed);
      expect(page.total, JSON.stringify(q)).toBe(expected.length);
      expect(page.items.map((i) => i.id), JSON.stringify(q)).toEqual(expected.slice(0, 20).map((i) => i.id));
    }
  });
});

describe('document keys', () => {
  const docKeys = () => Object.fromEntries((db.prepare('SELECT id, doc_key FROM items').all() as { id: string; doc_key: number }[]).map((r) => [r.id, r.doc_key]));

  it('appends documents in arrival order, whatever the times of their items', async () => {
    open();
    const days = [17, 3, 28, 9, 1, 22];
    await store.upsertItems(days.slice(0, 3).map((d, i) => item({ id: `i${i}`, title: '超市 过期', publishedAt: new Date(Date.UTC(2026, 10, d)).toISOString() })));
    await store.upsertItems(days.slice(3).map((d, i) => item({ id: `i${i + 3}`, title: '食堂 呕吐', level: i % 2 ? '红' : null, publishedAt: new Date(Date.UTC(2026, 10, d)).toISOString() })));
    const keys = docKeys();
    const inArrival = days.map((_, i) => keys[`i${i}`]!);
    expect(inArrival).toEqual([...inArrival].sort((a, b) => a - b));
    expect(new Set(inArrival).size).toBe(days.length);
    expect(await ids({})).toEqual(['i2', 'i5', 'i0', 'i3', 'i1', 'i4']);
  });

  it('rewrites a document in its place when its item is updated or moves to another time or level', async () => {
    open();
    await store.upsertItems([item({ id: 'a', title: '超市 过期' }), item({ id: 'b', title: '食堂 呕吐' })]);
    const before = docKeys();
    const moved = item({ id: 'a', title: '超市 过期 变质', level: '橙', risk: true, publishedAt: '2026-11-29T08:00:00.000Z' });
    const updated = item({ id: 'b', title: '食堂 呕吐 住院' });
    await store.upsertItems([moved, updated]);
    expect(docKeys()).toEqual(before);
    expect(db.prepare('SELECT count(*) AS n FROM item_docs').get()).toEqual({ n: 2 });
    expect(await store.getItems(['a', 'b'])).toEqual([moved, updated]);
    expect(await ids({ q: '变质', level: '橙' })).toEqual(['a']);
    expect(await ids({ q: '住院' })).toEqual(['b']);
  });
});

describe('a store whose documents sat at their items\' keys', () => {
  /**
   * The layout before documents had keys of their own, made from a store of today: each document
   * row at its item's key, holding the item's terms; item rows without terms or document key.
   */
  function toDocumentsAtItemKeys(): void {
    db.exec(`
      CREATE TABLE old_docs (rowid INTEGER PRIMARY KEY, terms TEXT NOT NULL, tokens TEXT NOT NULL, doc TEXT NOT NULL);
      INSERT INTO old_docs SELECT i.rowid, i.terms, d.tokens, d.doc FROM items i JOIN item_docs d ON d.rowid = i.doc_key;
      DROP TABLE item_docs;
      ALTER TABLE old_docs RENAME TO item_docs;
      ALTER TABLE items DROP COLUMN terms;
      ALTER TABLE items DROP COLUMN doc_key;
    `);
  }
  const hit = (term: string) => ({ rule: 'r', group: 'g', term, start: 0, end: term.length, weight: 1, negated: false });
  const olderItems = () =>
    Array.from({ length: 40 }, (_, i) =>
      item({
        id: `old-${i}`,
        title: i % 2 ? '超市 过期' : '食堂 呕吐',
        level: i % 4 ? null : '红',
        risk: i % 4 === 0,
        hits: [hit(i % 2 ? '过期' : '呕吐')],
        publishedAt: new Date(Date.UTC(2026, 10, 1 + (i % 20), Math.floor(i / 20))).toISOString(),
      }),
    );

  it('gives each item row its document key and terms when opened, and reads, searches, counts and updates as before', async () => {
    const items = olderItems();
    open();
    await store.upsertItems(items);
    toDocumentsAtItemKeys();
    await store.close();
    open();
    expect(db.prepare('SELECT count(*) AS n FROM items WHERE doc_key = rowid').get()).toEqual({ n: items.length });
    expect(await store.getItems(['old-3', 'old-8'])).toEqual([items[3], items[8]]);
    expect(await ids({ q: '呕吐', level: '红' })).toEqual(items.filter((_, i) => i % 4 === 0).sort((a, b) => b.publishedAt.localeCompare(a.publishedAt)).map((i) => i.id));
    expect(await store.aggregate({ groupBy: 'term', filter: {} })).toEqual([
      { key: '呕吐', count: 20 },
      { key: '过期', count: 20 },
    ]);
    // an older item updated in place, one moved to another level, and a new one
    const updated = { ...items[1]!, score: 3 };
    const moved = { ...items[2]!, level: '黄' as const, risk: true, hits: [hit('变质')] };
    const fresh = item({ id: 'new', title: '超市 过期', hits: [hit('过期')], publishedAt: '2026-12-01T00:00:00.000Z' });
    await store.upsertItems([updated, moved, fresh]);
    expect(await store.getItems(['old-1', 'old-2', 'new'])).toEqual([updated, moved, fresh]);
    expect(await ids({ q: '呕吐', level: '黄' })).toEqual(['old-2']);
    expect(await store.aggregate({ groupBy: 'term', filter: {} })).toEqual([
      { key: '过期', count: 21 },
      { key: '呕吐', count: 19 },
      { key: '变质', count: 1 },
    ]);
    expect((await store.searchItems(ItemQuery.parse({}))).total).toBe(items.length + 1);
  });
});

describe('a store written by the previous layout', () => {
  /** The items part of the layout before time keys: one wide table holding each document, tokens included. */
  function writeLegacy(file: string, items: ScoredItem[]): void {
    const legacy = openDatabase(file);
    legacy.exec(`
      CREATE TABLE items (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source_id TEXT NOT NULL, kind TEXT NOT NULL,
        published_at TEXT NOT NULL, category TEXT, level_rank INTEGER, risk INTEGER NOT NULL, score REAL NOT NULL,
        region TEXT, business TEXT, doc TEXT NOT NULL);
      CREATE INDEX items_published ON items(published_at);
      CREATE TABLE item_terms (term TEXT NOT NULL, item_rowid INTEGER NOT NULL, PRIMARY KEY (term, item_rowid)) WITHOUT ROWID;
      CREATE INDEX item_terms_item ON item_terms(item_rowid);
      CREATE INDEX items_source ON items(source_id);
      CREATE INDEX items_risk ON items(risk, level_rank);
      CREATE TABLE item_regions (item_rowid INTEGER NOT NULL, prefix TEXT NOT NULL, PRIMARY KEY (prefix, item_rowid)) WITHOUT ROWID;
      CREATE VIRTUAL TABLE items_fts USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61');
    `);
    const ins = legacy.prepare(
      'INSERT INTO items (id, source_id, kind, published_at, category, level_rank, risk, score, region, business, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const it of items) ins.run(it.id, it.sourceId, it.kind, it.publishedAt, it.category, it.level ? LEVELS.indexOf(it.level) : null, it.risk ? 1 : 0, it.score, it.regions[0] ?? null, null, JSON.stringify(it));
    legacy.close();
  }

  const legacyItems = () =>
    Array.from({ length: 1_203 }, (_, i) =>
      item({ id: `old-${i}`, title: i % 2 ? '超市 过期' : '食堂 呕吐', level: i % 3 ? null : '红', risk: i % 3 === 0, regions: ['360731'], publishedAt: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString() }),
    );

  it('is rewritten in the new layout when opened: every item found, read back whole, searched as new ones are', async () => {
    const items = legacyItems();
    writeLegacy(join(t.dir, 'store.db'), items);
    open();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('items_v1', 'item_regions', 'item_terms')").all()).toEqual([]);
    expect((await store.searchItems(ItemQuery.parse({}))).total).toBe(items.length);
    expect(await store.getItem('old-7')).toEqual(items[7]);
    expect((await store.searchItems(ItemQuery.parse({ q: '呕吐', level: '红', region: '360700' }))).total).toBe(items.filter((_, i) => i % 2 === 0 && i % 3 === 0).length);
    await store.upsertItems([item({ id: 'new', title: '过期', publishedAt: '2026-12-01T00:00:00.000Z' })]);
    expect((await store.searchItems(ItemQuery.parse({ q: '过期', limit: 1 }))).items.map((i) => i.id)).toEqual(['new']);
  });

  it('an interrupted rewrite resumes at the next open without doubling anything', async () => {
    const items = legacyItems();
    open();
    // as a crash would leave it: some items already written anew, all still waiting in items_v1
    await store.upsertItems(items.slice(0, 300));
    db.exec('CREATE TABLE items_v1 (rowid INTEGER PRIMARY KEY, doc TEXT NOT NULL)');
    const ins = db.prepare('INSERT INTO items_v1 (doc) VALUES (?)');
    for (const it of items) ins.run(JSON.stringify(it));
    await store.close();
    open();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'items_v1'").all()).toEqual([]);
    expect((await store.searchItems(ItemQuery.parse({ q: '过期' }))).total).toBe(items.filter((_, i) => i % 2).length);
    expect((await store.searchItems(ItemQuery.parse({}))).total).toBe(items.length);
  });
});

describe('a store whose alerts kept their documents in their own rows', () => {
  /** The alerts part of the layout before alert_docs: each document inline in its alerts row. */
  function writeLegacyAlerts(file: string): void {
    const legacy = openDatabase(file);
    legacy.exec(`
      CREATE TABLE alerts (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, level_rank INTEGER NOT NULL, category TEXT NOT NULL,
        status TEXT NOT NULL, first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, version INTEGER NOT NULL, merged_into TEXT, doc TEXT NOT NULL);
      CREATE INDEX alerts_seen ON alerts(last_seen_at);
      CREATE INDEX alerts_first ON alerts(first_seen_at);
      CREATE TABLE alert_regions (alert_rowid INTEGER NOT NULL, prefix TEXT NOT NULL, PRIMARY KEY (prefix, alert_rowid)) WITHOUT ROWID;
      CREATE INDEX alert_regions_alert ON alert_regions(alert_rowid);
      CREATE VIRTUAL TABLE alerts_fts USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61');
    `);
    const ins = legacy.prepare(
      'INSERT INTO alerts (id, level_rank, category, status, first_seen_at, last_seen_at, version, merged_into, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING rowid',
    );
    for (const a of oldAlerts) {
      const { rowid } = ins.get(a.id, LEVELS.indexOf(a.level), a.category, a.status, a.firstSeenAt, a.lastSeenAt, a.version, null, JSON.stringify(a)) as { rowid: number };
      legacy.prepare('INSERT INTO alert_regions (alert_rowid, prefix) VALUES (?, ?), (?, ?), (?, ?)').run(rowid, '36', rowid, '3607', rowid, '360731');
      legacy.prepare('INSERT INTO alerts_fts (rowid, tokens) VALUES (?, ?)').run(rowid, a.title);
    }
    legacy.close();
  }
  const oldAlerts = Array.from({ length: 30 }, (_, i) =>
    alert({ id: `old-${i}`, level: i % 2 ? '黄' : '红', title: i % 3 ? '超市 过期' : '食堂 呕吐', regions: ['360731'], region: '360731', lastSeenAt: new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString() }),
  );

  it('moves the documents beside the rows when opened: every alert read back whole, searched and updated as new ones are', async () => {
    writeLegacyAlerts(join(t.dir, 'store.db'));
    open();
    expect(db.prepare("SELECT name FROM pragma_table_info('alerts') WHERE name = 'doc'").all()).toEqual([]);
    expect(await store.getAlert('old-4')).toEqual(oldAlerts[4]);
    const page = await store.searchAlerts(AlertQuery.parse({ q: '呕吐', level: '红', region: '360700' }));
    expect(page.items.map((a) => a.id)).toEqual(oldAlerts.filter((_, i) => i % 2 === 0 && i % 3 === 0).map((a) => a.id).reverse());
    const acked = await store.transition('old-4', { action: 'acknowledge', actor: '张三' });
    expect(await store.getAlert('old-4')).toEqual(acked);
    await store.upsertAlerts([alert({ id: 'new', title: '超市 过期', lastSeenAt: '2026-12-01T00:00:00.000Z' })]);
    expect((await store.searchAlerts(AlertQuery.parse({ q: '过期', limit: 1 }))).items.map((a) => a.id)).toEqual(['new']);
    expect((await store.searchAlerts(AlertQuery.parse({}))).total).toBe(oldAlerts.length + 1);
  });
});
