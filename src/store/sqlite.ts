import type { Alert, Page, ScoredItem } from '../core/types.ts';
import { ITEM_KINDS, LEVELS, type Level, levelRank } from '../core/types.ts';
import type { AlertQuery, ItemQuery, Stats } from '../core/query.ts';
import { NotFoundError } from '../core/errors.ts';
import type { AggregateBucket, AggregateQuery, SearchPage, Store, TransitionRequest } from './store.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from './sqlite-db.ts';
import { releaseDatabase } from './sqlite-db.ts';
import { applyTransition } from './workflow.ts';
import { businessOf, mergeDetection, regionPrefixes, regionFilterPrefix, termsOf } from './shared.ts';
import { asJoinedTokens, distinctTokens } from '../text/tokens.ts';

const AGG_KEY = {
  category: 'category',
  region: 'region',
  level: 'level_rank',
  source: 'source_id',
  kind: 'kind',
  term: 't.value',
  business: 'business',
} as const;

/**
 * An item's rowid is its key: its level's band (红, 橙, 黄, 蓝, none), then its publication time
 * counted backwards in ms, then an arrival slot counted backwards too. Within a band the items
 * table and the full-text index share one order, newest first, ascending: the direction in which
 * FTS5 skips through long doclists (read backwards, a common word or region was several times
 * slower in our measurements). A level plus a time range is one rowid range per level, which
 * FTS5 and the table b-tree both seek to directly. A keyword search then reads only the
 * keyword's entries of the levels and days asked for
 * (「食物中毒」 in 30 days of 红橙黄 is its matches there, not the 30% of all items that mention
 * it), pages stop after `limit` hits, and nothing is collected to be sorted. Pages over several
 * levels merge their bands by time.
 *
 * Items published in the same millisecond take the next slots, the later arrival first; more
 * than SLOTS of them spill into the following milliseconds' keys (they sort, and fall in time
 * ranges, as if that much later). Times before 2000 or after 2139 are kept and shown as they
 * are, but sort and filter as the first or last millisecond of that span.
 *
 * FTS5 seeks rowid bounds only when they are bound as integers: better-sqlite3 binds a JS number
 * as a REAL, and FTS5 (3.53) then reads the term's whole doclist for a range, and with MATCH
 * ignores `rowid = ?` altogether, hence the CASTs.
 */
const LEVEL_BANDS = LEVELS.length;
/** 红 橙 黄 蓝 and no level. */
const BANDS = [0, 1, 2, 3, LEVEL_BANDS] as const;
const BAND_SPAN = 2 ** 50;
const SLOTS = 256;
const EPOCH = Date.UTC(2000, 0, 1);
const LAST_TICK = 2 ** 42 - 1;
/** Bands sit below zero: every key stays within ±2^52, exact as a JS number. */
const bandBase = (band: number): number => (band - LEVEL_BANDS) * BAND_SPAN;
const bandOf = (level: Level | null): number => (level ? levelRank(level) : LEVEL_BANDS);
const tick = (ms: number): number => Math.max(0, Math.min(LAST_TICK, Math.floor(ms) - EPOCH));
/** The lowest key of `ms`'s slots in `band`; later milliseconds have lower keys. */
const slotKey = (band: number, ms: number): number => bandBase(band) + (LAST_TICK - tick(ms)) * SLOTS;
/** Age within the band (lower is newer): what pages of several bands are merged by. */
const ageOfKey = (key: number, band: number): number => key - bandBase(band);

/**
 * Counting stops this many matches past the requested offset; the page then says
 * `totalCapped` and `total` is a lower bound. A million-item store counts a broad search (a
 * common word, a whole province over a month) in bounded time, and any loop paging by
 * `offset + limit >= total` still reads to the end.
 */
export const COUNT_CAP = 10_000;

/**
 * Separated stored tokens before items carried them joined by spaces: rows written then are read
 * back through it. A control character, so FTS5's unicode61 tokenizer split on it as on spaces.
 */
const LEGACY_TOKEN_SEP = '\u001f';

export interface SqliteStoreOptions {
  /** Segments query text and alert text the same way items were segmented. */
  tokenize: (text: string) => string[];
  ownsDb?: boolean;
  /** Where item counts stop past the offset (default COUNT_CAP). */
  countCap?: number;
}

/** User text as FTS5 phrases: quoting makes it inert (no FTS syntax injection). */
function ftsTerms(tokens: string[]): string[] {
  return [...new Set(tokens.map((t) => t.replace(/"/g, '').trim()).filter(Boolean))].map((t) => `"${t}"`);
}

/** FTS5 query: every token must occur. */
function ftsQuery(tokens: string[]): string | null {
  const terms = ftsTerms(tokens);
  return terms.length ? terms.join(' AND ') : null;
}

const anyOf = (alternatives: string[]): string => (alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`);

/**
 * What else an item is filtered by, as words in the full-text index's second column: every
 * region prefix (`r36`, `r3607`, `r360731`), the kind, the risk flag, the source and the
 * category (hex, so any name is one plain word). A keyword search with desk filters is then one
 * FTS5 intersection within the key ranges, which skips through long lists instead of joining
 * every item that contains a common word.
 */
function facetWords(it: ScoredItem): string {
  const words = regionPrefixes(it.regions).map((p) => `r${p}`);
  words.push(`k${it.kind}`, it.risk ? 'x1' : 'x0', `s${hex(it.sourceId)}`);
  if (it.category) words.push(`c${hex(it.category)}`);
  return words.join(' ');
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

interface ItemRow {
  rowid: number;
  published_at: string;
  level_rank: number | null;
  doc_key: number;
}

/**
 * The embedded store: items as a narrow table keyed by level and time (see BANDS) beside their
 * documents, which are appended in arrival order (see keyDocumentsApart); alerts as narrow rows
 * of indexed columns beside their JSON documents; full text in contentless FTS5 tables over our
 * own jieba tokens (the same tokens the rules see). Items' region, kind and risk filters are
 * words in their full-text index (see facetWords); alerts, a few thousand incidents, filter
 * regions through a prefix table. Either way '360000' finds everything in the province.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly tokenize: (text: string) => string[];
  private readonly ownsDb: boolean;
  private readonly countCap: number;
  private readonly statements = new Map<string, Statement>();
  private readonly st;
  private readonly writeBatch: (items: ScoredItem[]) => void;

  constructor(
    private readonly db: Db,
    opts: SqliteStoreOptions,
  ) {
    this.tokenize = opts.tokenize;
    this.ownsDb = opts.ownsDb ?? true;
    this.countCap = opts.countCap ?? COUNT_CAP;
    const legacy = hasColumn(db, 'items', 'doc');
    if (legacy) retireLegacyItems(db);
    if (hasColumn(db, 'alerts', 'doc')) moveAlertDocs(db);
    db.exec(`
      CREATE TABLE IF NOT EXISTS items (
        rowid        INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        source_id    TEXT NOT NULL,
        kind         TEXT NOT NULL,
        published_at TEXT NOT NULL,
        category     TEXT,
        level_rank   INTEGER,
        risk         INTEGER NOT NULL,
        score        REAL NOT NULL,
        region       TEXT,
        business     TEXT,
        terms        TEXT NOT NULL,
        doc_key      INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS items_source ON items(source_id);
      CREATE TABLE IF NOT EXISTS item_docs (rowid INTEGER PRIMARY KEY, tokens TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(tokens, facets, content='', contentless_delete=1, tokenize='unicode61');

      CREATE TABLE IF NOT EXISTS alerts (
        rowid         INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        level_rank    INTEGER NOT NULL,
        category      TEXT NOT NULL,
        status        TEXT NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_seen_at  TEXT NOT NULL,
        version       INTEGER NOT NULL,
        merged_into   TEXT
      );
      CREATE TABLE IF NOT EXISTS alert_docs (rowid INTEGER PRIMARY KEY, doc TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS alerts_seen ON alerts(last_seen_at);
      CREATE INDEX IF NOT EXISTS alerts_first ON alerts(first_seen_at);
      CREATE TABLE IF NOT EXISTS alert_regions (alert_rowid INTEGER NOT NULL, prefix TEXT NOT NULL, PRIMARY KEY (prefix, alert_rowid)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS alert_regions_alert ON alert_regions(alert_rowid);
      CREATE VIRTUAL TABLE IF NOT EXISTS alerts_fts USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61');
    `);
    if (!hasColumn(db, 'items', 'doc_key')) keyDocumentsApart(db);
    // Document rows of a store that keyDocumentsApart migrated keep their terms column, no longer read.
    const docsKeepTerms = hasColumn(db, 'item_docs', 'terms');
    this.st = {
      findItem: db.prepare('SELECT rowid, published_at, level_rank, doc_key FROM items WHERE id = ?'),
      firstKey: db.prepare('SELECT min(rowid) FROM items WHERE rowid BETWEEN ? AND ?').pluck(),
      insertItem: db.prepare(
        'INSERT INTO items (rowid, id, source_id, kind, published_at, category, level_rank, risk, score, region, business, terms, doc_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateItem: db.prepare(
        'UPDATE items SET source_id = ?, kind = ?, category = ?, risk = ?, score = ?, region = ?, business = ?, terms = ?, doc_key = ? WHERE rowid = ?',
      ),
      deleteItem: db.prepare('DELETE FROM items WHERE rowid = ?'),
      addDoc: db.prepare(docsKeepTerms ? "INSERT INTO item_docs (terms, tokens, doc) VALUES ('', ?, ?)" : 'INSERT INTO item_docs (tokens, doc) VALUES (?, ?)'),
      putDoc: db.prepare('UPDATE item_docs SET tokens = ?, doc = ? WHERE rowid = ?'),
      delItemFts: db.prepare('DELETE FROM items_fts WHERE rowid = CAST(? AS INTEGER)'),
      addItemFts: db.prepare('INSERT INTO items_fts (rowid, tokens, facets) VALUES (CAST(? AS INTEGER), ?, ?)'),
      getItem: db.prepare('SELECT d.tokens, d.doc FROM items i JOIN item_docs d ON d.rowid = i.doc_key WHERE i.id = ?'),
      getItems: db.prepare('SELECT d.tokens, d.doc FROM items i JOIN item_docs d ON d.rowid = i.doc_key WHERE i.id IN (SELECT value FROM json_each(?))'),
      getDocs: db.prepare('SELECT i.rowid AS k, d.tokens, d.doc FROM items i JOIN item_docs d ON d.rowid = i.doc_key WHERE i.rowid IN (SELECT value FROM json_each(?))'),
      getAlertRow: db.prepare('SELECT a.rowid, d.doc FROM alerts a JOIN alert_docs d ON d.rowid = a.rowid WHERE a.id = ?'),
      upsertAlert: db.prepare(`
        INSERT INTO alerts (id, level_rank, category, status, first_seen_at, last_seen_at, version, merged_into)
        VALUES (@id, @level_rank, @category, @status, @first_seen_at, @last_seen_at, @version, @merged_into)
        ON CONFLICT(id) DO UPDATE SET level_rank = excluded.level_rank, category = excluded.category,
          status = excluded.status, first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
          version = excluded.version, merged_into = excluded.merged_into
        RETURNING rowid`),
      putAlertDoc: db.prepare('INSERT OR REPLACE INTO alert_docs (rowid, doc) VALUES (?, ?)'),
      delAlertRegions: db.prepare('DELETE FROM alert_regions WHERE alert_rowid = ?'),
      addAlertRegion: db.prepare('INSERT OR IGNORE INTO alert_regions (alert_rowid, prefix) VALUES (?, ?)'),
      delAlertFts: db.prepare('DELETE FROM alerts_fts WHERE rowid = ?'),
      addAlertFts: db.prepare('INSERT INTO alerts_fts (rowid, tokens) VALUES (?, ?)'),
    };
    this.writeBatch = db.transaction((items: ScoredItem[]) => this.writeItems(items));
    if (legacy || db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'items_v1'").get()) this.migrateLegacyItems();
  }

  async upsertItems(items: ScoredItem[]): Promise<void> {
    if (items.length) this.writeBatch(items);
  }

  /**
   * One batch, inside the caller's transaction. The full-text index is written last and in key
   * order: FTS5 flushes its pending segment whenever a key is lower than the one before, so
   * writing in arrival order would cut a segment per item.
   */
  private writeItems(batch: ScoredItem[]): void {
    // The last copy of an id wins, as if upserted one after the other (the index is written after the loop).
    const items = [...new Map(batch.map((it) => [it.id, it])).values()];
    const ftsDeletes: number[] = [];
    const ftsInserts: { key: number; tokens: string; facets: string }[] = [];
    for (const it of items) {
      const ms = Date.parse(it.publishedAt);
      if (Number.isNaN(ms)) throw new RangeError(`item ${it.id}: publishedAt '${it.publishedAt}' is not a date`);
      const publishedAt = new Date(ms).toISOString();
      const old = this.st.findItem.get(it.id) as ItemRow | undefined;
      const level = it.level ? levelRank(it.level) : null;
      const business = businessOf(it);
      const terms = JSON.stringify(termsOf(it));
      // Tokens are kept once, beside the document (a record from before they were joined brings a list).
      const { tokens: given, ...rest } = it;
      const tokens = asJoinedTokens(given);
      const doc = JSON.stringify(rest);
      // A new document is appended; one rewritten keeps its place, even when its item moves.
      const docKey = old && this.st.putDoc.run(tokens, doc, old.doc_key).changes === 1 ? old.doc_key : Number(this.st.addDoc.run(tokens, doc).lastInsertRowid);
      let key: number;
      if (old && old.published_at === publishedAt && old.level_rank === level) {
        key = old.rowid;
        this.st.updateItem.run(it.sourceId, it.kind, it.category, it.risk ? 1 : 0, it.score, it.regions[0] ?? null, business, terms, docKey, key);
        ftsDeletes.push(key);
      } else {
        if (old) {
          // a new publication time or level is a new key: the item moves
          this.st.deleteItem.run(old.rowid);
          ftsDeletes.push(old.rowid);
        }
        key = this.freeKey(bandOf(it.level), ms);
        this.st.insertItem.run(key, it.id, it.sourceId, it.kind, publishedAt, it.category, level, it.risk ? 1 : 0, it.score, it.regions[0] ?? null, business, terms, docKey);
      }
      // Searches ask whether a word occurs (every token AND-ed, never a phrase or a rank), so the
      // index gets each distinct word once: a third fewer postings to write and store.
      ftsInserts.push({ key, tokens: distinctTokens(tokens), facets: facetWords(it) });
    }
    ftsDeletes.sort((a, b) => a - b);
    for (const key of ftsDeletes) this.st.delItemFts.run(key);
    ftsInserts.sort((a, b) => a.key - b.key);
    for (const f of ftsInserts) this.st.addItemFts.run(f.key, f.tokens, f.facets);
  }

  /**
   * The next free key of `ms`'s slots in `band`, taken from the top so the later arrival sorts
   * first, or of the following (newer) milliseconds' when they are full; at the newest end of
   * the band, where clamped times pile up, of the preceding ones.
   */
  private freeKey(band: number, ms: number): number {
    const first = slotKey(band, ms);
    const start = bandBase(band);
    for (let step = -SLOTS, base = first; ; base += step) {
      if (base < start) {
        step = SLOTS;
        base = first + SLOTS;
      }
      if (base + SLOTS > start + BAND_SPAN) throw new Error(`no free key left in level band ${band}`);
      const lowest = this.st.firstKey.get(base, base + SLOTS - 1) as number | null;
      if (lowest === null) return base + SLOTS - 1;
      if (lowest > base) return lowest - 1;
    }
  }

  /**
   * Moves the items of a store written before time keys (kept aside as items_v1 by
   * retireLegacyItems) through the ordinary write path, a chunk per transaction: a crash
   * resumes where it stopped, and writes are upserts, so a chunk done twice changes nothing.
   */
  private migrateLegacyItems(): void {
    const next = this.db.prepare('SELECT rowid, doc FROM items_v1 ORDER BY rowid LIMIT 500');
    const done = this.db.prepare('DELETE FROM items_v1 WHERE rowid <= ?');
    const chunk = this.db.transaction((rows: { rowid: number; doc: string }[]) => {
      this.writeItems(rows.map((r) => JSON.parse(r.doc) as ScoredItem));
      done.run(rows[rows.length - 1]!.rowid);
    });
    for (;;) {
      const rows = next.all() as { rowid: number; doc: string }[];
      if (!rows.length) break;
      chunk(rows);
    }
    this.db.exec('DROP TABLE items_v1');
  }

  async upsertAlerts(alerts: Alert[]): Promise<void> {
    if (!alerts.length) return;
    this.db.transaction(() => {
      for (const incoming of alerts) {
        const row = this.st.getAlertRow.get(incoming.id) as { doc: string } | undefined;
        const alert = row ? mergeDetection(JSON.parse(row.doc) as Alert, incoming) : incoming;
        this.writeAlert(alert);
      }
    })();
  }

  private writeAlert(a: Alert): void {
    const { rowid } = this.st.upsertAlert.get({
      id: a.id,
      level_rank: levelRank(a.level),
      category: a.category,
      status: a.status,
      first_seen_at: new Date(a.firstSeenAt).toISOString(),
      last_seen_at: new Date(a.lastSeenAt).toISOString(),
      version: a.version,
      merged_into: a.mergedInto ?? null,
    }) as { rowid: number };
    this.st.putAlertDoc.run(rowid, JSON.stringify(a));
    this.st.delAlertRegions.run(rowid);
    for (const p of regionPrefixes(a.regions)) this.st.addAlertRegion.run(rowid, p);
    this.st.delAlertFts.run(rowid);
    this.st.addAlertFts.run(rowid, this.tokenize(`${a.title}\n${a.summary}\n${a.terms.join(' ')}`).join(' '));
  }

  async getItem(id: string): Promise<ScoredItem | null> {
    const row = this.st.getItem.get(id) as { tokens: string; doc: string } | undefined;
    return row ? itemOf(row) : null;
  }

  async getItems(ids: string[]): Promise<ScoredItem[]> {
    if (!ids.length) return [];
    const byId = new Map<string, ScoredItem>();
    for (const row of this.st.getItems.all(JSON.stringify(ids)) as { tokens: string; doc: string }[]) {
      const it = itemOf(row);
      byId.set(it.id, it);
    }
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async getAlert(id: string): Promise<Alert | null> {
    const row = this.st.getAlertRow.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Alert) : null;
  }

  /**
   * Newest first. Each level band asked for (all five without a level filter) is read in key
   * order over its key range for the time bounds: through FTS5 when there is a keyword or any
   * other filter (one MATCH over both columns), else through the items table. A page reads at
   * most `offset + limit` keys per band and merges them by time; the count reads at most the cap.
   */
  async searchItems(q: ItemQuery): Promise<SearchPage<ScoredItem>> {
    const match = this.itemMatch(q);
    const from = match ? 'items_fts' : 'items';
    const where = `${match ? 'items_fts MATCH ? AND ' : ''}rowid BETWEEN CAST(? AS INTEGER) AND CAST(? AS INTEGER)`;
    const pageOf = this.cached(`SELECT rowid FROM ${from} WHERE ${where} ORDER BY rowid LIMIT ?`);
    const countOf = this.cached(`SELECT count(*) FROM (SELECT 1 FROM ${from} WHERE ${where} LIMIT ?)`);
    const ranges = keyRanges(q);
    const argsOf = (r: KeyRange) => [...(match ? [match] : []), r.lo, r.hi];

    const want = q.offset + q.limit;
    let keys: number[];
    if (ranges.length === 1) keys = (pageOf.all(...argsOf(ranges[0]!), want) as number[]).slice(q.offset);
    else {
      const hits = ranges.flatMap((r) => (pageOf.all(...argsOf(r), want) as number[]).map((k) => ({ k, age: ageOfKey(k, r.band), band: r.band })));
      // newest first; of one millisecond the most severe first, then the later arrival
      hits.sort((a, b) => Math.floor(a.age / SLOTS) - Math.floor(b.age / SLOTS) || a.band - b.band || a.age - b.age);
      keys = hits.slice(q.offset, want).map((h) => h.k);
    }
    // past a full page, so a capped total still says "there is more" to a loop paging by total
    const countTo = q.offset + Math.max(this.countCap, q.limit + 1);
    let n = 0;
    for (const r of ranges) {
      n += countOf.get(...argsOf(r), countTo + 1 - n) as number;
      if (n > countTo) break;
    }
    return { total: Math.min(n, countTo), ...(n > countTo ? { totalCapped: true } : {}), items: this.docsOf(keys) };
  }

  /** Statements built from a query's shape, kept for the next query of that shape. */
  private cached(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      if (this.statements.size >= 256) this.statements.clear();
      st = this.db.prepare(sql).pluck();
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Items of `keys`, in that order. */
  private docsOf(keys: number[]): ScoredItem[] {
    if (!keys.length) return [];
    const byKey = new Map<number, ScoredItem>();
    for (const row of this.st.getDocs.all(JSON.stringify(keys)) as { k: number; tokens: string; doc: string }[]) byKey.set(row.k, itemOf(row));
    return keys.flatMap((k) => byKey.get(k) ?? []);
  }

  /** The FTS5 query for a keyword and the filters that live in the index (see facetWords); null when there are none. */
  private itemMatch(q: Omit<ItemQuery, 'limit' | 'offset'>): string | null {
    const parts: string[] = [];
    const facet = (words: string[]) => parts.push(anyOf([...new Set(words)].map((w) => `facets:${w}`)));
    if (q.q) parts.push(...ftsTerms(this.tokenize(q.q)).map((t) => `tokens:${t}`));
    if (q.region?.length) facet(q.region.map((r) => `r${regionFilterPrefix(r)}`));
    if (q.kind?.length) facet(q.kind.map((k) => `k${k}`));
    if (q.risk !== undefined) facet([q.risk ? 'x1' : 'x0']);
    if (q.source?.length) facet(q.source.map((s) => `s${hex(s)}`));
    if (q.category?.length) facet(q.category.map((c) => `c${hex(c)}`));
    return parts.length ? parts.join(' AND ') : null;
  }

  /** Item filters as conditions on the `items` table, for aggregations. */
  private itemWhere(q: Omit<ItemQuery, 'limit' | 'offset'>): { where: string[]; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.level?.length || q.from || q.to) {
      const ranges = keyRanges(q);
      where.push(`(${ranges.map(() => 'items.rowid BETWEEN CAST(? AS INTEGER) AND CAST(? AS INTEGER)').join(' OR ')})`);
      args.push(...ranges.flatMap((r) => [r.lo, r.hi]));
    }
    const match = this.itemMatch({ q: q.q, region: q.region });
    if (match) {
      where.push('items.rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)');
      args.push(match);
    }
    if (q.category?.length) {
      where.push(`category IN (${q.category.map(() => '?').join(',')})`);
      args.push(...q.category);
    }
    if (q.source?.length) {
      where.push(`source_id IN (${q.source.map(() => '?').join(',')})`);
      args.push(...q.source);
    }
    if (q.kind?.length) {
      where.push(`kind IN (${q.kind.map(() => '?').join(',')})`);
      args.push(...q.kind);
    }
    if (q.risk !== undefined) {
      where.push('risk = ?');
      args.push(q.risk ? 1 : 0);
    }
    return { where, args };
  }

  async aggregate(q: AggregateQuery): Promise<AggregateBucket[]> {
    const { where, args } = this.itemWhere(q.filter);
    const size = q.size ?? 50;
    // an item's terms sit in its narrow row: term trends never read a document
    const from = q.groupBy === 'term' ? 'items JOIN json_each(items.terms) t' : 'items';
    const key = AGG_KEY[q.groupBy];
    const w = [...where, `${key} IS NOT NULL`, `${key} != ''`];
    const cond = `WHERE ${w.join(' AND ')}`;
    const top = this.db
      .prepare(`SELECT ${key} AS k, count(*) AS n FROM ${from} ${cond} GROUP BY k ORDER BY n DESC, k LIMIT ?`)
      .all(...args, size) as { k: string | number; n: number }[];
    const label = (k: string | number) => (q.groupBy === 'level' ? LEVELS[Number(k)]! : String(k));
    if (!q.interval) return top.map((r) => ({ key: label(r.k), count: r.n }));
    if (!top.length) return [];
    const time = q.interval === 'hour' ? "substr(published_at, 1, 13) || ':00:00.000Z'" : "substr(published_at, 1, 10) || 'T00:00:00.000Z'";
    const rows = this.db
      .prepare(
        `SELECT ${key} AS k, ${time} AS t, count(*) AS n FROM ${from} ${cond} AND ${key} IN (${top.map(() => '?').join(',')}) GROUP BY k, t`,
      )
      .all(...args, ...top.map((r) => r.k)) as { k: string | number; t: string; n: number }[];
    const rank = new Map(top.map((r, i) => [r.k, i]));
    rows.sort((a, b) => rank.get(a.k)! - rank.get(b.k)! || a.t.localeCompare(b.t));
    return rows.map((r) => ({ key: label(r.k), time: r.t, count: r.n }));
  }

  async searchAlerts(q: AlertQuery): Promise<Page<Alert>> {
    const where: string[] = ['merged_into IS NULL'];
    const args: unknown[] = [];
    if (q.level?.length) {
      where.push(`level_rank IN (${q.level.map(() => '?').join(',')})`);
      args.push(...q.level.map(levelRank));
    }
    if (q.category?.length) {
      where.push(`category IN (${q.category.map(() => '?').join(',')})`);
      args.push(...q.category);
    }
    const match = q.q ? ftsQuery(this.tokenize(q.q)) : null;
    if (q.region?.length) {
      const prefixes = q.region.map(regionFilterPrefix);
      const marks = prefixes.map(() => '?').join(',');
      // With a keyword, its (short) list of alerts leads and each is checked for the region; as a
      // list, a province's region (every alert) led instead and cost a row read per alert: 49 ms
      // against 7.5 over 27,000 alerts.
      where.push(
        match
          ? `EXISTS (SELECT 1 FROM alert_regions r WHERE r.prefix IN (${marks}) AND r.alert_rowid = alerts.rowid)`
          : `alerts.rowid IN (SELECT alert_rowid FROM alert_regions WHERE prefix IN (${marks}))`,
      );
      args.push(...prefixes);
    }
    if (q.from) {
      where.push('first_seen_at >= ?');
      args.push(q.from);
    }
    if (q.to) {
      where.push('first_seen_at <= ?');
      args.push(q.to);
    }
    if (match) {
      where.push('alerts.rowid IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?)');
      args.push(match);
    }
    if (q.status?.length) {
      where.push(`status IN (${q.status.map(() => '?').join(',')})`);
      args.push(...q.status);
    }
    // Alerts are incidents, not reports: few enough to count exactly every time.
    const w = `WHERE ${where.join(' AND ')}`;
    const { n } = this.db.prepare(`SELECT count(*) AS n FROM alerts ${w}`).get(...args) as { n: number };
    // The page is chosen on the narrow rows; only its own documents are read.
    const rows = this.db
      .prepare(
        `SELECT d.doc FROM (SELECT alerts.rowid AS k, last_seen_at AS t FROM alerts ${w} ORDER BY last_seen_at DESC, alerts.rowid DESC LIMIT ? OFFSET ?) page
         JOIN alert_docs d ON d.rowid = page.k ORDER BY page.t DESC, page.k DESC`,
      )
      .all(...args, q.limit, q.offset) as { doc: string }[];
    return { total: n, items: rows.map((r) => JSON.parse(r.doc) as Alert) };
  }

  async transition(id: string, req: TransitionRequest): Promise<Alert> {
    return this.db.transaction(() => {
      const row = this.st.getAlertRow.get(id) as { doc: string } | undefined;
      if (!row) throw new NotFoundError(`alert ${id} not found`);
      const next = applyTransition(JSON.parse(row.doc) as Alert, req, new Date());
      this.writeAlert(next);
      return next;
    }).immediate();
  }

  async stats(): Promise<Stats> {
    const count = (sql: string) =>
      Object.fromEntries((this.db.prepare(sql).all() as { k: string; n: number }[]).map((r) => [r.k, r.n]));
    const levels = ['红', '橙', '黄', '蓝'];
    const byRank = count('SELECT level_rank AS k, count(*) AS n FROM alerts WHERE merged_into IS NULL GROUP BY level_rank');
    return {
      items: {
        total: (this.db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n,
        bySource: count('SELECT source_id AS k, count(*) AS n FROM items GROUP BY source_id'),
        // from the index's kind words: reading every item row of a large store takes far longer
        byKind: Object.fromEntries(
          ITEM_KINDS.map((k) => [k, this.cached('SELECT count(*) FROM items_fts WHERE items_fts MATCH ?').get(`facets:k${k}`) as number]).filter(([, n]) => n),
        ),
      },
      alerts: {
        total: (this.db.prepare('SELECT count(*) AS n FROM alerts WHERE merged_into IS NULL').get() as { n: number }).n,
        byLevel: Object.fromEntries(Object.entries(byRank).map(([rank, n]) => [levels[Number(rank)]!, n])),
        byStatus: count('SELECT status AS k, count(*) AS n FROM alerts WHERE merged_into IS NULL GROUP BY status'),
      },
    };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.ownsDb) releaseDatabase(this.db);
  }
}

interface KeyRange {
  band: number;
  lo: number;
  hi: number;
}

/** The key range of each level band a query asks for, over its time bounds (both inclusive). */
function keyRanges(q: { level?: Level[]; from?: string; to?: string }): KeyRange[] {
  const bands = q.level?.length ? [...new Set(q.level.map(levelRank))].sort((a, b) => a - b) : BANDS;
  return bands.map((band) => ({
    band,
    lo: q.to ? slotKey(band, Date.parse(q.to)) : bandBase(band),
    hi: q.from ? slotKey(band, Date.parse(q.from)) + SLOTS - 1 : bandBase(band) + BAND_SPAN - 1,
  }));
}

/** A stored item: its document, with the tokens put back from their column. */
function itemOf(row: { tokens: string; doc: string }): ScoredItem {
  const it = JSON.parse(row.doc) as ScoredItem;
  // Older rows: a document that kept its own list (a token held the old separator), or a column joined by it.
  if (Array.isArray(it.tokens)) it.tokens = asJoinedTokens(it.tokens as string[]);
  else it.tokens = row.tokens.includes(LEGACY_TOKEN_SEP) ? asJoinedTokens(row.tokens.split(LEGACY_TOKEN_SEP)) : row.tokens;
  return it;
}

/** Whether `table` exists with a column `column`: how an older layout is recognised. */
function hasColumn(db: Db, table: string, column: string): boolean {
  return db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(table, column) !== undefined;
}

/**
 * A store written before alerts' documents had their own table kept each document in its alerts
 * row. A desk search reads each candidate row for its level and time; with documents of up to
 * tens of kilobytes inline, those rows spread over many more pages than the columns need (on a
 * warm cache this measured the same; the query plan, above, was what cost). Moved once, in one
 * transaction, so a crash leaves either the old layout or the new.
 */
function moveAlertDocs(db: Db): void {
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS alert_docs (rowid INTEGER PRIMARY KEY, doc TEXT NOT NULL);
      INSERT OR REPLACE INTO alert_docs (rowid, doc) SELECT rowid, doc FROM alerts;
      ALTER TABLE alerts DROP COLUMN doc;
    `);
  })();
}

/**
 * A store written before documents had keys of their own kept each item's document at the
 * item's key. Items arrive in any order of time (a backfill, an import of last month's hotline
 * records), and each document, about 12 KB, went into the middle of the table: a batch of 200
 * rewrote pages all over it, and the durable commit cost about a third more than appending
 * (bench README, eighth session). Documents stay where they are; each item row learns its
 * document's key, and takes over the terms its document row held, which term trends then read
 * without touching documents. One transaction, so a crash leaves either layout whole.
 */
function keyDocumentsApart(db: Db): void {
  db.transaction(() => {
    db.exec(`
      ALTER TABLE items ADD COLUMN terms TEXT;
      ALTER TABLE items ADD COLUMN doc_key INTEGER;
      UPDATE items SET doc_key = rowid, terms = coalesce((SELECT d.terms FROM item_docs d WHERE d.rowid = items.rowid), '[]');
    `);
  })();
}

/**
 * A store written before items had time keys kept each item's document, tokens included, in
 * one wide `items` table, with a single-column full-text index and a region table. The old
 * table is set aside as items_v1 (its documents are complete, so nothing else is needed) and
 * the derived tables are dropped; SqliteStore then rewrites every item in the new layout.
 */
function retireLegacyItems(db: Db): void {
  db.transaction(() => {
    db.exec(`
      DROP INDEX IF EXISTS items_published;
      DROP INDEX IF EXISTS items_source;
      DROP INDEX IF EXISTS items_risk;
      DROP TABLE IF EXISTS item_regions;
      DROP TABLE IF EXISTS item_terms;
      DROP TABLE IF EXISTS items_fts;
      ALTER TABLE items RENAME TO items_v1;
    `);
  })();
}
