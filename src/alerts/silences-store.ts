import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../store/sqlite-db.ts';
import { parseSilence, type Silence } from './silences.ts';

/*
 * Where silences live: two tables in the embedded SQLite data file, whatever engines carry the
 * pipeline (like desk users). Nothing is ever deleted: removing a silence ends it and keeps the
 * row; every create, expiry and removal is an audit row with who and when. Expiry needs no job:
 * `active()` only returns silences whose `until` is in the future, and the first read after it
 * passes writes the 'expire' audit row (dated at `until`).
 */

/** The longest a silence may run; a longer mute should be a rule change, not a silence. */
export const MAX_SILENCE_MS = 30 * 24 * 3600_000;

export type SilenceState = 'active' | 'expired' | 'deleted';

export interface SilenceAudit {
  silenceId: string;
  action: 'create' | 'expire' | 'delete';
  actor: string;
  at: string;
  note?: string;
}

export interface SilenceRecord extends Silence {
  state: SilenceState;
  deletedAt?: string;
  deletedBy?: string;
  audit: SilenceAudit[];
}

/** What an officer sends: `until` is an ISO time or a duration such as 30m, 4h, 2d. */
export const SilenceInput = z.strictObject({
  rule: z.string().trim().min(1).max(100).optional(),
  category: z.string().trim().min(1).max(100).optional(),
  region: z.string().regex(/^\d{6}$/, 'must be a 6-digit GB/T 2260 code such as 360731'),
  until: z.string().trim().min(1, 'an ISO time or a duration such as 4h'),
  reason: z.string().trim().min(2, '请填写静默原因').max(500),
});
export type SilenceInput = z.infer<typeof SilenceInput>;

export class SilenceError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** `until` as a time: an ISO date, or now plus a duration (30m, 4h, 2d). Must lie in (now, now + 30 days]. */
export function parseUntil(value: string, now: Date): Date {
  const m = /^(\d{1,4})\s*(m|min|h|d)$/i.exec(value.trim());
  const unit = m ? ({ m: 60_000, min: 60_000, h: 3600_000, d: 86_400_000 } as const)[m[2]!.toLowerCase() as 'm' | 'min' | 'h' | 'd'] : 0;
  const t = m ? now.getTime() + Number(m[1]) * unit : /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new SilenceError('until', `'${value}' is neither an ISO time (2026-11-28T18:00:00+08:00) nor a duration (30m, 4h, 2d)`);
  if (t <= now.getTime()) throw new SilenceError('until', 'must be in the future');
  if (t - now.getTime() > MAX_SILENCE_MS) throw new SilenceError('until', 'a silence lasts at most 30 days');
  return new Date(t);
}

interface Row {
  id: string;
  rule: string | null;
  category: string | null;
  region: string;
  until: string;
  reason: string;
  created_by: string;
  created_at: string;
  deleted_at: string | null;
  deleted_by: string | null;
}

/** The only door to the silences tables. */
export class SilenceStore {
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    opts: { now?: () => Date } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    db.exec(`
      CREATE TABLE IF NOT EXISTS silences (
        id              TEXT PRIMARY KEY,
        rule            TEXT,
        category        TEXT,
        region          TEXT NOT NULL,
        until           TEXT NOT NULL,
        until_ms        INTEGER NOT NULL,
        reason          TEXT NOT NULL,
        created_by      TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        deleted_at      TEXT,
        deleted_by      TEXT,
        expire_audited  INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS silences_until ON silences(until_ms);
      CREATE TABLE IF NOT EXISTS silence_audit (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        silence_id TEXT NOT NULL,
        action     TEXT NOT NULL,
        actor      TEXT NOT NULL,
        at         TEXT NOT NULL,
        note       TEXT
      );
      CREATE INDEX IF NOT EXISTS silence_audit_id ON silence_audit(silence_id);
    `);
  }

  /** Creates a silence from an officer's input; throws SilenceError or a zod error naming the field. */
  create(input: unknown, actor: string): SilenceRecord {
    const now = this.now();
    const v = SilenceInput.parse(input);
    const until = parseUntil(v.until, now);
    const s = parseSilence({
      id: `sil-${now.getTime().toString(36)}-${randomBytes(4).toString('hex')}`,
      ...(v.rule ? { rule: v.rule } : {}),
      ...(v.category ? { category: v.category } : {}),
      region: v.region,
      until: until.toISOString(),
      reason: v.reason,
      createdBy: actor,
      createdAt: now.toISOString(),
    });
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO silences (id, rule, category, region, until, until_ms, reason, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(s.id, s.rule ?? null, s.category ?? null, s.region, s.until, until.getTime(), s.reason, actor, s.createdAt);
      this.audit(s.id, 'create', actor, s.createdAt, `${describe(s)}，至 ${s.until}，原因：${s.reason}`);
    })();
    return this.get(s.id)!;
  }

  /** Ends a silence now; the row and its audit stay. Null when there is no such silence. */
  remove(id: string, actor: string): SilenceRecord | null {
    const row = this.row(id);
    if (!row) return null;
    if (row.deleted_at) return this.get(id);
    const at = this.now().toISOString();
    this.db.transaction(() => {
      this.db.prepare('UPDATE silences SET deleted_at = ?, deleted_by = ? WHERE id = ?').run(at, actor, id);
      this.audit(id, 'delete', actor, at, Date.parse(row.until) <= Date.parse(at) ? '删除已过期的静默' : '提前结束静默');
    })();
    return this.get(id);
  }

  /** Silences in force now (not removed, not expired). */
  active(now: Date = this.now()): Silence[] {
    this.sweep(now);
    const rows = this.db
      .prepare('SELECT * FROM silences WHERE deleted_at IS NULL AND until_ms > ? ORDER BY created_at, id')
      .all(now.getTime()) as Row[];
    return rows.map(toSilence);
  }

  get(id: string): SilenceRecord | null {
    this.sweep(this.now());
    const row = this.row(id);
    return row ? this.record(row) : null;
  }

  /**
   * Every silence, newest first, with its audit; `region` keeps those inside it or covering it
   * (a county sees its own and the city or province silences that mute it).
   */
  list(opts: { region?: string; limit?: number } = {}): SilenceRecord[] {
    this.sweep(this.now());
    const rows = this.db.prepare('SELECT * FROM silences ORDER BY created_at DESC, id LIMIT ?').all(opts.limit ?? 500) as Row[];
    return rows.filter((r) => !opts.region || overlaps(r.region, opts.region)).map((r) => this.record(r));
  }

  private row(id: string): Row | undefined {
    return this.db.prepare('SELECT * FROM silences WHERE id = ?').get(id) as Row | undefined;
  }

  private record(r: Row): SilenceRecord {
    const now = this.now().getTime();
    const audit = (this.db.prepare('SELECT * FROM silence_audit WHERE silence_id = ? ORDER BY seq').all(r.id) as {
      silence_id: string; action: SilenceAudit['action']; actor: string; at: string; note: string | null;
    }[]).map((a) => ({ silenceId: a.silence_id, action: a.action, actor: a.actor, at: a.at, ...(a.note ? { note: a.note } : {}) }));
    return {
      ...toSilence(r),
      state: r.deleted_at ? 'deleted' : Date.parse(r.until) <= now ? 'expired' : 'active',
      ...(r.deleted_at ? { deletedAt: r.deleted_at, deletedBy: r.deleted_by ?? '' } : {}),
      audit,
    };
  }

  /** Writes the 'expire' audit row of every silence that ran out (once each). */
  private sweep(now: Date): void {
    const due = this.db
      .prepare('SELECT id, until FROM silences WHERE expire_audited = 0 AND deleted_at IS NULL AND until_ms <= ?')
      .all(now.getTime()) as { id: string; until: string }[];
    if (!due.length) return;
    this.db.transaction(() => {
      for (const s of due) {
        if (this.db.prepare('UPDATE silences SET expire_audited = 1 WHERE id = ? AND expire_audited = 0').run(s.id).changes !== 1) continue;
        this.audit(s.id, 'expire', 'sentinel', s.until, '到期自动失效');
      }
    })();
  }

  private audit(id: string, action: SilenceAudit['action'], actor: string, at: string, note: string): void {
    this.db.prepare('INSERT INTO silence_audit (silence_id, action, actor, at, note) VALUES (?, ?, ?, ?, ?)').run(id, action, actor, at, note);
  }
}

function toSilence(r: Row): Silence {
  return {
    id: r.id,
    ...(r.rule ? { rule: r.rule } : {}),
    ...(r.category ? { category: r.category } : {}),
    region: r.region,
    until: r.until,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

/** One region lies within the other (either way), by GB/T 2260 nesting. */
function overlaps(a: string, b: string): boolean {
  const prefix = (c: string) => (c.endsWith('0000') ? c.slice(0, 2) : c.endsWith('00') ? c.slice(0, 4) : c);
  const pa = prefix(a);
  const pb = prefix(b);
  return pa.startsWith(pb) || pb.startsWith(pa);
}

/** 规则 school-canteen / 类别 校园食品安全 @ 360731, for history and audit notes. */
export function describe(s: Pick<Silence, 'rule' | 'category' | 'region'>): string {
  const what = [s.rule ? `规则 ${s.rule}` : '', s.category ? `类别「${s.category}」` : ''].filter(Boolean).join('、');
  return `${what}，区划 ${s.region}`;
}
