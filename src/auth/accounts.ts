import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import type { Db } from '../store/sqlite-db.ts';
import { RegionCode, Role, TOKEN_ROLES, UserName, checkRoleRegion, type Principal } from './roles.ts';

export interface User {
  name: string;
  role: Role;
  region?: string;
  createdAt: string;
}

export interface Session {
  /** The raw id goes into the cookie only; the table keeps its sha256. */
  id: string;
  csrf: string;
  user: User;
}

export interface ApiToken {
  name: string;
  role: Role;
  region?: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export class AccountError extends Error {}

export interface AccountsOptions {
  /** Idle sessions end after this long without a request; default 30 min. */
  idleMs?: number;
  /** Sessions end after this long whatever happens; default 12 h (one shift and a half). */
  absoluteMs?: number;
  now?: () => Date;
}

const TOKEN_PREFIX = 'sst_';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const random = (bytes = 32) => randomBytes(bytes).toString('base64url');

/**
 * argon2id with the library's defaults (19 MiB, t=2, p=1 — the OWASP minimum). A login for an
 * unknown name still verifies against this hash so the answer takes as long as a wrong password.
 */
let dummyHash: Promise<string> | null = null;

interface UserRow {
  name: string;
  role: Role;
  region: string | null;
  password_hash: string;
  created_at: string;
}

/**
 * Users, sessions and machine tokens, in the embedded SQLite data file. Session ids and tokens
 * are stored as sha256 digests, so a copy of the data file lets nobody log in; passwords as
 * argon2id. This class is the only door to those tables.
 */
export class Accounts {
  readonly idleMs: number;
  readonly absoluteMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    opts: AccountsOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 30 * 60_000;
    this.absoluteMs = opts.absoluteMs ?? 12 * 3600_000;
    this.now = opts.now ?? (() => new Date());
    db.exec(`
      CREATE TABLE IF NOT EXISTS desk_users (
        name          TEXT PRIMARY KEY,
        role          TEXT NOT NULL,
        region        TEXT,
        password_hash TEXT NOT NULL,
        created_at    TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS desk_sessions (
        id_hash      TEXT PRIMARY KEY,
        user_name    TEXT NOT NULL REFERENCES desk_users(name) ON DELETE CASCADE,
        csrf         TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS desk_tokens (
        token_hash   TEXT PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE,
        role         TEXT NOT NULL,
        region       TEXT,
        created_at   TEXT NOT NULL,
        last_used_at TEXT
      );
    `);
  }

  private validate(name: string, role: string, region: string | undefined): { name: string; role: Role; region?: string } {
    const n = UserName.safeParse(name);
    if (!n.success) throw new AccountError(`name: ${n.error.issues[0]!.message}`);
    const r = Role.safeParse(role);
    if (!r.success) throw new AccountError(`role: expected one of ${TOKEN_ROLES.join(', ')}, got '${role}'`);
    let code: string | undefined;
    if (region !== undefined && region !== '') {
      const c = RegionCode.safeParse(region);
      if (!c.success) throw new AccountError(`region: ${c.error.issues[0]!.message}`);
      code = c.data;
    }
    const problem = checkRoleRegion(r.data, code);
    if (problem) throw new AccountError(problem);
    return { name: n.data, role: r.data, region: code };
  }

  async addUser(name: string, role: string, region: string | undefined, password: string): Promise<User> {
    const v = this.validate(name, role, region);
    if (v.role === 'push') throw new AccountError("role: 'push' is for machine tokens (sentinel token create), not users");
    if (password.length < 10) throw new AccountError('password: at least 10 characters');
    if (password.length > 256) throw new AccountError('password: at most 256 characters');
    if (this.getUserRow(v.name)) throw new AccountError(`user '${v.name}' already exists`);
    const hash = await argonHash(password);
    const createdAt = this.now().toISOString();
    this.db
      .prepare('INSERT INTO desk_users (name, role, region, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(v.name, v.role, v.region ?? null, hash, createdAt);
    return { ...v, createdAt };
  }

  /** Sets a new password and ends every session of the user. */
  async setPassword(name: string, password: string): Promise<void> {
    if (password.length < 10) throw new AccountError('password: at least 10 characters');
    if (!this.getUserRow(name)) throw new AccountError(`no user '${name}'`);
    const hash = await argonHash(password);
    this.db.transaction(() => {
      this.db.prepare('UPDATE desk_users SET password_hash = ? WHERE name = ?').run(hash, name);
      this.db.prepare('DELETE FROM desk_sessions WHERE user_name = ?').run(name);
    })();
  }

  removeUser(name: string): boolean {
    return this.db.prepare('DELETE FROM desk_users WHERE name = ?').run(name).changes > 0;
  }

  countUsers(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM desk_users').get() as { n: number }).n;
  }

  listUsers(): User[] {
    return (this.db.prepare('SELECT * FROM desk_users ORDER BY name').all() as UserRow[]).map(toUser);
  }

  /** Whether a user of that name exists (for logs that may name known users only). */
  hasUser(name: string): boolean {
    return typeof name === 'string' && this.getUserRow(name.trim()) !== undefined;
  }

  private getUserRow(name: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM desk_users WHERE name = ?').get(name) as UserRow | undefined;
  }

  /** The user for a correct name and password, else null (same time either way). */
  async verifyPassword(name: string, password: string): Promise<User | null> {
    const row = typeof name === 'string' ? this.getUserRow(name.trim()) : undefined;
    dummyHash ??= argonHash(random());
    const stored = row?.password_hash ?? (await dummyHash);
    let ok = false;
    try {
      ok = await argonVerify(stored, password);
    } catch {
      ok = false;
    }
    return ok && row ? toUser(row) : null;
  }

  /**
   * A fresh session for a user who just proved who they are. Called at every login, so an id
   * planted before login (session fixation) is never the one that gets the rights.
   */
  createSession(user: User): Session {
    const id = random();
    const csrf = random();
    const at = this.now().toISOString();
    this.db
      .prepare('INSERT INTO desk_sessions (id_hash, user_name, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)')
      .run(sha256(id), user.name, csrf, at, at);
    return { id, csrf, user };
  }

  /**
   * The live session for a cookie value, or null when unknown, idle too long or too old (an
   * expired one is deleted). `touch` moves the idle clock; the live feed reads without touching,
   * so an open page alone never keeps a session alive.
   */
  session(id: string | undefined, opts: { touch?: boolean } = {}): Session | null {
    if (!id || id.length > 100) return null;
    const h = sha256(id);
    const row = this.db
      .prepare(
        `SELECT s.csrf, s.created_at, s.last_seen_at, u.* FROM desk_sessions s JOIN desk_users u ON u.name = s.user_name WHERE s.id_hash = ?`,
      )
      .get(h) as (UserRow & { csrf: string; last_seen_at: string }) | undefined;
    if (!row) return null;
    const now = this.now().getTime();
    if (now - Date.parse(row.last_seen_at) > this.idleMs || now - Date.parse(row.created_at) > this.absoluteMs) {
      this.db.prepare('DELETE FROM desk_sessions WHERE id_hash = ?').run(h);
      return null;
    }
    if (opts.touch !== false) {
      this.db.prepare('UPDATE desk_sessions SET last_seen_at = ? WHERE id_hash = ?').run(new Date(now).toISOString(), h);
    }
    return { id, csrf: row.csrf, user: toUser(row) };
  }

  destroySession(id: string | undefined): void {
    if (id) this.db.prepare('DELETE FROM desk_sessions WHERE id_hash = ?').run(sha256(id));
  }

  /** Deletes sessions past their idle or absolute limit; returns how many. */
  pruneSessions(): number {
    const now = this.now().getTime();
    return this.db
      .prepare('DELETE FROM desk_sessions WHERE last_seen_at < ? OR created_at < ?')
      .run(new Date(now - this.idleMs).toISOString(), new Date(now - this.absoluteMs).toISOString()).changes;
  }

  /** A new machine token: `sst_` + 32 random bytes base64url. Only its sha256 is kept; the caller must show it now. */
  createToken(name: string, role: string, region?: string): { token: string; info: ApiToken } {
    const v = this.validate(name, role, region);
    if (this.db.prepare('SELECT 1 FROM desk_tokens WHERE name = ?').get(v.name)) {
      throw new AccountError(`token '${v.name}' already exists; revoke it first`);
    }
    const token = TOKEN_PREFIX + random(32);
    const createdAt = this.now().toISOString();
    this.db
      .prepare('INSERT INTO desk_tokens (token_hash, name, role, region, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(sha256(token), v.name, v.role, v.region ?? null, createdAt);
    return { token, info: { name: v.name, role: v.role, ...(v.region ? { region: v.region } : {}), createdAt, lastUsedAt: null } };
  }

  revokeToken(name: string): boolean {
    return this.db.prepare('DELETE FROM desk_tokens WHERE name = ?').run(name).changes > 0;
  }

  listTokens(): ApiToken[] {
    return (
      this.db.prepare('SELECT name, role, region, created_at, last_used_at FROM desk_tokens ORDER BY name').all() as {
        name: string;
        role: Role;
        region: string | null;
        created_at: string;
        last_used_at: string | null;
      }[]
    ).map((r) => ({ name: r.name, role: r.role, ...(r.region ? { region: r.region } : {}), createdAt: r.created_at, lastUsedAt: r.last_used_at }));
  }

  /** The principal for a bearer token, or null. The lookup is by digest, so timing reveals nothing of the token. */
  verifyToken(token: string | undefined): Principal | null {
    if (!token || !token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
    const h = sha256(token);
    const row = this.db.prepare('SELECT token_hash, name, role, region FROM desk_tokens WHERE token_hash = ?').get(h) as
      | { token_hash: string; name: string; role: Role; region: string | null }
      | undefined;
    if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(h))) return null;
    this.db.prepare('UPDATE desk_tokens SET last_used_at = ? WHERE token_hash = ?').run(this.now().toISOString(), h);
    return { name: `token:${row.name}`, role: row.role, ...(row.region ? { region: row.region } : {}), via: 'token' };
  }
}

function toUser(r: UserRow): User {
  return { name: r.name, role: r.role, ...(r.region ? { region: r.region } : {}), createdAt: r.created_at };
}

export function principalOf(user: User): Principal {
  return { name: user.name, role: user.role, ...(user.region ? { region: user.region } : {}), via: 'session' };
}

/** 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I): readable off a terminal. */
export function randomPassword(length = 16): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(length * 2);
  let out = '';
  // rejection sampling keeps every character equally likely
  for (const b of bytes) {
    if (b >= 256 - (256 % alphabet.length)) continue;
    out += alphabet[b % alphabet.length];
    if (out.length === length) return out;
  }
  return out + randomPassword(length - out.length);
}

/**
 * Never a default password: when the desk starts with no user at all, a `demo` officer gets a
 * random password that is printed once (to stderr, through `print`) and never stored in clear.
 * Returns the password when it created the account, else null.
 */
export async function ensureDemoAccount(accounts: Accounts, print: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<string | null> {
  if (accounts.countUsers() > 0) return null;
  const password = randomPassword();
  await accounts.addUser('demo', 'officer', undefined, password);
  print(`值班台演示账号 / desk demo account: user "demo", password "${password}" (shown once; add real users with \`sentinel user add\`)`);
  return password;
}
