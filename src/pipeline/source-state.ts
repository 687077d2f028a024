import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/sqlite-db.ts';
import type { RawItem } from '../core/types.ts';

export interface SourceStatus {
  id: string;
  type: string;
  kind: string;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
  seen: number;
  new: number;
  duplicate: number;
  /** Newest publishedAt among the items seen: how far behind the world this source is. */
  newestItemAt: string | null;
  nextPollAt: string | null;
}

/** Ids per lookup query: one query per id costs more in calls than in SQLite; well under its parameter limit. */
const LOOKUP_CHUNK = 500;

/**
 * What each source has already handed to the bus, so a restart or a re-poll publishes only
 * what is new or changed. It only saves work: the stages are idempotent, so losing this
 * table would republish, never duplicate.
 */
export class SourceState {
  constructor(private readonly db: Db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS source_seen (
        item_id   TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        hash      TEXT NOT NULL,
        seen_at   INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS source_status (
        id   TEXT PRIMARY KEY,
        doc  TEXT NOT NULL
      );
    `);
  }

  /**
   * Content hashes fresh() computed, taken by markSeen() for the same item objects: the runner
   * hands fresh()'s items, unchanged, to the bus and then to markSeen(). fresh() never reads it,
   * so an object changed and polled again is compared by its new content.
   */
  private readonly hashes = new WeakMap<RawItem, string>();
  /** the lookup of a full chunk of ids, run on every call */
  private lookup: Statement | null = null;

  /** Splits a poll's items into those to publish and the count of unchanged duplicates. */
  fresh(items: RawItem[]): { fresh: RawItem[]; duplicates: number } {
    const known = this.knownHashes(items);
    const fresh: RawItem[] = [];
    const inPoll = new Set<string>();
    let duplicates = 0;
    for (const it of items) {
      const seenHash = known.get(it.id);
      // Only an id seen before needs its content compared: a new id is fresh whatever it holds.
      if (inPoll.has(it.id)) duplicates++;
      else if (seenHash === undefined) fresh.push(it);
      else {
        const hash = hashOf(it);
        if (hash === seenHash) duplicates++;
        else {
          fresh.push(it);
          this.hashes.set(it, hash);
        }
      }
      inPoll.add(it.id);
    }
    return { fresh, duplicates };
  }

  /** Called after the bus accepted the items. */
  markSeen(items: RawItem[]): void {
    const up = this.db.prepare(
      `INSERT INTO source_seen (item_id, source_id, hash, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(item_id) DO UPDATE SET hash = excluded.hash, seen_at = excluded.seen_at`,
    );
    const now = Date.now();
    this.db.transaction(() => {
      for (const it of items) {
        const hash = this.hashes.get(it) ?? hashOf(it);
        this.hashes.delete(it);
        up.run(it.id, it.sourceId, hash, now);
      }
    })();
  }

  /** Stored hashes of the items' ids that were seen before, read a chunk of ids per query. */
  private knownHashes(items: RawItem[]): Map<string, string> {
    const known = new Map<string, string>();
    for (let i = 0; i < items.length; i += LOOKUP_CHUNK) {
      const ids = items.slice(i, i + LOOKUP_CHUNK).map((it) => it.id);
      const sql = () => `SELECT item_id, hash FROM source_seen WHERE item_id IN (${Array(ids.length).fill('?').join(', ')})`;
      const select = ids.length === LOOKUP_CHUNK ? (this.lookup ??= this.db.prepare(sql())) : this.db.prepare(sql());
      for (const row of select.all(ids) as { item_id: string; hash: string }[]) known.set(row.item_id, row.hash);
    }
    return known;
  }

  status(id: string): SourceStatus | null {
    const row = this.db.prepare('SELECT doc FROM source_status WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as SourceStatus) : null;
  }

  saveStatus(s: SourceStatus): void {
    this.db
      .prepare('INSERT INTO source_status (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc')
      .run(s.id, JSON.stringify(s));
  }
}

/**
 * contentHash(title, body, url, regionHint, fields as JSON), so hashes stored by earlier versions
 * still match: the same parts, each followed by NUL, in one update instead of ten (per-call
 * overhead was a good part of hashing a 100,000-row import). A NUL never completes a surrogate
 * pair, so joining the parts first cannot change their UTF-8 bytes.
 */
export function hashOf(it: RawItem): string {
  return createHash('sha256')
    .update(`${it.title}\0${it.body}\0${it.url ?? ''}\0${it.regionHint ?? ''}\0${JSON.stringify(it.fields)}\0`)
    .digest('hex');
}
