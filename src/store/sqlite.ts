import type { Alert, Page, ScoredItem } from '../core/types.ts';
import { LEVELS, levelRank } from '../core/types.ts';
import type { AlertQuery, ItemQuery, Stats } from '../core/query.ts';
import { NotFoundError } from '../core/errors.ts';
import type { AggregateBucket, AggregateQuery, Store, TransitionRequest } from './store.ts';
import type { Db } from './sqlite-db.ts';
import { releaseDatabase } from './sqlite-db.ts';
import { applyTransition } from './workflow.ts';
import { businessOf, mergeDetection, regionPrefixes, regionFilterPrefix, termsOf } from './shared.ts';

const AGG_KEY = {
  category: 'category',
  region: 'region',
  level: 'level_rank',
  source: 'source_id',
  kind: 'kind',
  term: 't.term',
  business: 'business',
} as const;

export interface SqliteStoreOptions {
  /** Segments query text and alert text the same way items were segmented. */
  tokenize: (text: string) => string[];
  ownsDb?: boolean;
}

/** FTS5 query: every token must occur; quoting makes user text inert (no FTS syntax injection). */
function ftsQuery(tokens: string[]): string | null {
  const terms = [...new Set(tokens.map((t) => t.replace(/"/g, '').trim()).filter(Boolean))];
  return terms.length ? terms.map((t) => `"${t}"`).join(' AND ') : null;
}

/**
 * The embedded store: items and alerts as JSON documents with indexed columns, full text in
 * contentless FTS5 tables over our own jieba tokens (the same tokens the rules see), region
 * filters through a prefix table so '360000' finds everything in the province.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly tokenize: (text: string) => string[];
  private readonly ownsDb: boolean;
  private readonly st;

  constructor(
    private readonly db: Db,
    opts: SqliteStoreOptions,
  ) {
    this.tokenize = opts.tokenize;
    this.ownsDb = opts.ownsDb ?? true;
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
        doc          TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS items_published ON items(published_at);
      CREATE TABLE IF NOT EXISTS item_terms (term TEXT NOT NULL, item_rowid INTEGER NOT NULL, PRIMARY KEY (term, item_rowid)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS item_terms_item ON item_terms(item_rowid);
      CREATE INDEX IF NOT EXISTS items_source ON items(source_id);
      CREATE INDEX IF NOT EXISTS items_risk ON items(risk, level_rank);
      CREATE TABLE IF NOT EXISTS item_regions (item_rowid INTEGER NOT NULL, prefix TEXT NOT NULL, PRIMARY KEY (prefix, item_rowid)) WITHOUT ROWID;
      CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61');

      CREATE TABLE IF NOT EXISTS alerts (
        rowid         INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        level_rank    INTEGER NOT NULL,
        category      TEXT NOT NULL,
        status        TEXT NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_seen_at  TEXT NOT NULL,
        version       INTEGER NOT NULL,
        merged_into   TEXT,
        doc           TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS alerts_seen ON alerts(last_seen_at);
      CREATE INDEX IF NOT EXISTS alerts_first ON alerts(first_seen_at);
      CREATE TABLE IF NOT EXISTS alert_regions (alert_rowid INTEGER NOT NULL, prefix TEXT NOT NULL, PRIMARY KEY (prefix, alert_rowid)) WITHOUT ROWID;
      CREATE VIRTUAL TABLE IF NOT EXISTS alerts_fts USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61');
    `);
    this.st = {
      upsertItem: db.prepare(`
        INSERT INTO items (id, source_id, kind, published_at, category, level_rank, risk, score, region, business, doc)
        VALUES (@id, @source_id, @kind, @published_at, @category, @level_rank, @risk, @score, @region, @business, @doc)
        ON CONFLICT(id) DO UPDATE SET source_id = excluded.source_id, kind = excluded.kind,
          published_at = excluded.published_at, category = excluded.category, level_rank = excluded.level_rank,
          risk = excluded.risk, score = excluded.score, region = excluded.region, business = excluded.business,
          doc = excluded.doc
        RETURNING rowid`),
      delItemRegions: db.prepare('DELETE FROM item_regions WHERE item_rowid = ?'),
      addItemRegion: db.prepare('INSERT OR IGNORE INTO item_regions (item_rowid, prefix) VALUES (?, ?)'),
      delItemFts: db.prepare('DELETE FROM items_fts WHERE rowid = ?'),
      delItemTerms: db.prepare('DELETE FROM item_terms WHERE item_rowid = ?'),
      addItemTerm: db.prepare('INSERT OR IGNORE INTO item_terms (term, item_rowid) VALUES (?, ?)'),
      addItemFts: db.prepare('INSERT INTO items_fts (rowid, tokens) VALUES (?, ?)'),
      getItem: db.prepare('SELECT doc FROM items WHERE id = ?'),
      getAlertRow: db.prepare('SELECT rowid, doc FROM alerts WHERE id = ?'),
      upsertAlert: db.prepare(`
        INSERT INTO alerts (id, level_rank, category, status, first_seen_at, last_seen_at, version, merged_into, doc)
        VALUES (@id, @level_rank, @category, @status, @first_seen_at, @last_seen_at, @version, @merged_into, @doc)
        ON CONFLICT(id) DO UPDATE SET level_rank = excluded.level_rank, category = excluded.category,
          status = excluded.status, first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
          version = excluded.version, merged_into = excluded.merged_into, doc = excluded.doc
        RETURNING rowid`),
      delAlertRegions: db.prepare('DELETE FROM alert_regions WHERE alert_rowid = ?'),
      addAlertRegion: db.prepare('INSERT OR IGNORE INTO alert_regions (alert_rowid, prefix) VALUES (?, ?)'),
      delAlertFts: db.prepare('DELETE FROM alerts_fts WHERE rowid = ?'),
      addAlertFts: db.prepare('INSERT INTO alerts_fts (rowid, tokens) VALUES (?, ?)'),
    };
  }

  async upsertItems(items: ScoredItem[]): Promise<void> {
    if (!items.length) return;
    this.db.transaction(() => {
      for (const it of items) {
        const { rowid } = this.st.upsertItem.get({
          id: it.id,
          source_id: it.sourceId,
          kind: it.kind,
          published_at: new Date(it.publishedAt).toISOString(),
          category: it.category,
          level_rank: it.level ? levelRank(it.level) : null,
          risk: it.risk ? 1 : 0,
          score: it.score,
          region: it.regions[0] ?? null,
          business: businessOf(it),
          doc: JSON.stringify(it),
        }) as { rowid: number };
        this.st.delItemRegions.run(rowid);
        for (const p of regionPrefixes(it.regions)) this.st.addItemRegion.run(rowid, p);
        this.st.delItemTerms.run(rowid);
        for (const term of termsOf(it)) this.st.addItemTerm.run(term, rowid);
        this.st.delItemFts.run(rowid);
        this.st.addItemFts.run(rowid, it.tokens.join(' '));
      }
    })();
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
      doc: JSON.stringify(a),
    }) as { rowid: number };
    this.st.delAlertRegions.run(rowid);
    for (const p of regionPrefixes(a.regions)) this.st.addAlertRegion.run(rowid, p);
    this.st.delAlertFts.run(rowid);
    this.st.addAlertFts.run(rowid, this.tokenize(`${a.title}\n${a.summary}\n${a.terms.join(' ')}`).join(' '));
  }

  async getItem(id: string): Promise<ScoredItem | null> {
    const row = this.st.getItem.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as ScoredItem) : null;
  }

  async getItems(ids: string[]): Promise<ScoredItem[]> {
    const out: ScoredItem[] = [];
    for (const id of ids) {
      const it = await this.getItem(id);
      if (it) out.push(it);
    }
    return out;
  }

  async getAlert(id: string): Promise<Alert | null> {
    const row = this.st.getAlertRow.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Alert) : null;
  }

  async searchItems(q: ItemQuery): Promise<Page<ScoredItem>> {
    const { where, args } = this.itemWhere(q);
    return this.page<ScoredItem>('items', where, args, 'published_at DESC, rowid DESC', q.limit, q.offset);
  }

  private itemWhere(q: Omit<ItemQuery, 'limit' | 'offset'>): { where: string[]; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    this.commonFilters(q, 'items', 'item_regions', 'item_rowid', 'items_fts', 'published_at', where, args);
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
    const from = q.groupBy === 'term' ? 'items JOIN item_terms t ON t.item_rowid = items.rowid' : 'items';
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
    this.commonFilters(q, 'alerts', 'alert_regions', 'alert_rowid', 'alerts_fts', 'first_seen_at', where, args);
    if (q.status?.length) {
      where.push(`status IN (${q.status.map(() => '?').join(',')})`);
      args.push(...q.status);
    }
    return this.page<Alert>('alerts', where, args, 'last_seen_at DESC, rowid DESC', q.limit, q.offset);
  }

  private commonFilters(
    q: Omit<AlertQuery | ItemQuery, 'limit' | 'offset'>,
    table: string,
    regionTable: string,
    regionCol: string,
    fts: string,
    timeCol: string,
    where: string[],
    args: unknown[],
  ): void {
    if (q.level?.length) {
      where.push(`level_rank IN (${q.level.map(() => '?').join(',')})`);
      args.push(...q.level.map(levelRank));
    }
    if (q.category?.length) {
      where.push(`category IN (${q.category.map(() => '?').join(',')})`);
      args.push(...q.category);
    }
    if (q.region?.length) {
      const prefixes = q.region.map(regionFilterPrefix);
      where.push(`${table}.rowid IN (SELECT ${regionCol} FROM ${regionTable} WHERE prefix IN (${prefixes.map(() => '?').join(',')}))`);
      args.push(...prefixes);
    }
    if (q.from) {
      where.push(`${timeCol} >= ?`);
      args.push(q.from);
    }
    if (q.to) {
      where.push(`${timeCol} <= ?`);
      args.push(q.to);
    }
    if (q.q) {
      const match = ftsQuery(this.tokenize(q.q));
      if (match) {
        where.push(`${table}.rowid IN (SELECT rowid FROM ${fts} WHERE ${fts} MATCH ?)`);
        args.push(match);
      }
    }
  }

  private page<T>(table: string, where: string[], args: unknown[], order: string, limit: number, offset: number): Page<T> {
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const { n } = this.db.prepare(`SELECT count(*) AS n FROM ${table} ${w}`).get(...args) as { n: number };
    const rows = this.db
      .prepare(`SELECT doc FROM ${table} ${w} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as { doc: string }[];
    return { total: n, items: rows.map((r) => JSON.parse(r.doc) as T) };
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
        byKind: count('SELECT kind AS k, count(*) AS n FROM items GROUP BY kind'),
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
