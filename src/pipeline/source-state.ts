import type { Db } from '../store/sqlite-db.ts';
import type { RawItem } from '../core/types.ts';
import { contentHash } from '../core/ids.ts';

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

  /** Splits a poll's items into those to publish and the count of unchanged duplicates. */
  fresh(items: RawItem[]): { fresh: RawItem[]; duplicates: number } {
    const get = this.db.prepare('SELECT hash FROM source_seen WHERE item_id = ?');
    const fresh: RawItem[] = [];
    const inPoll = new Set<string>();
    let duplicates = 0;
    for (const it of items) {
      const row = get.get(it.id) as { hash: string } | undefined;
      if (inPoll.has(it.id) || row?.hash === hashOf(it)) duplicates++;
      else fresh.push(it);
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
      for (const it of items) up.run(it.id, it.sourceId, hashOf(it), now);
    })();
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

function hashOf(it: RawItem): string {
  return contentHash(it.title, it.body, it.url ?? '', it.regionHint ?? '', JSON.stringify(it.fields));
}
