import { describe, expect, it } from 'vitest';
import { Accounts, AccountError, ensureDemoAccount, randomPassword } from '../../src/auth/accounts.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

function setup(now = { t: Date.parse('2026-11-29T08:00:00+08:00') }, opts: { idleMs?: number } = {}) {
  const db = openDatabase(':memory:');
  const accounts = new Accounts(db, { now: () => new Date(now.t), ...opts });
  return { db, accounts, now };
}

describe('users', () => {
  it('stores passwords as argon2id hashes and verifies them', async () => {
    const { db, accounts } = setup();
    const u = await accounts.addUser('张敏', 'officer', undefined, 'correct horse battery');
    expect(u).toMatchObject({ name: '张敏', role: 'officer' });
    const row = db.prepare('SELECT password_hash FROM desk_users WHERE name = ?').get('张敏') as { password_hash: string };
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    expect(row.password_hash).not.toContain('correct horse');
    expect(await accounts.verifyPassword('张敏', 'correct horse battery')).toMatchObject({ name: '张敏' });
    expect(await accounts.verifyPassword('张敏', 'correct horse batterY')).toBeNull();
    expect(await accounts.verifyPassword('李静', 'correct horse battery')).toBeNull();
  });

  it('keeps county accounts to a region and other roles without one', async () => {
    const { accounts } = setup();
    await expect(accounts.addUser('东湖区局', 'county', undefined, 'long-enough-pw')).rejects.toThrow(/region/);
    await expect(accounts.addUser('张敏', 'officer', '360102', 'long-enough-pw')).rejects.toThrow(/county accounts only/);
    await expect(accounts.addUser('x', 'officer', undefined, 'long-enough-pw')).rejects.toThrow(/name/);
    await expect(accounts.addUser('张敏', 'boss', undefined, 'long-enough-pw')).rejects.toThrow(/role/);
    await expect(accounts.addUser('张敏', 'officer', undefined, 'short')).rejects.toThrow(/10 characters/);
    await expect(accounts.addUser('南昌市局', 'county', '36010', 'long-enough-pw')).rejects.toThrow(AccountError);
    const city = await accounts.addUser('南昌市局', 'county', '3601', 'long-enough-pw');
    expect(city.region).toBe('360100');
    await expect(accounts.addUser('南昌市局', 'county', '3601', 'long-enough-pw')).rejects.toThrow(/already exists/);
  });
});

describe('sessions', () => {
  it('gives a new random id at every login and stores only its digest', async () => {
    const { db, accounts } = setup();
    const u = await accounts.addUser('张敏', 'officer', undefined, 'long-enough-pw');
    const a = accounts.createSession(u);
    const b = accounts.createSession(u);
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.csrf).not.toBe(a.id);
    const ids = (db.prepare('SELECT id_hash FROM desk_sessions').all() as { id_hash: string }[]).map((r) => r.id_hash);
    expect(ids).not.toContain(a.id);
    expect(accounts.session(a.id)?.user.name).toBe('张敏');
    expect(accounts.session('forged')).toBeNull();
  });

  it('ends a session after the idle timeout, and each request moves the idle clock', async () => {
    const { accounts, now } = setup(undefined, { idleMs: 30 * 60_000 });
    const s = accounts.createSession(await accounts.addUser('张敏', 'officer', undefined, 'long-enough-pw'));
    now.t += 29 * 60_000;
    expect(accounts.session(s.id)).not.toBeNull();
    now.t += 29 * 60_000; // 58 min after login, 29 after the last request
    expect(accounts.session(s.id)).not.toBeNull();
    now.t += 20 * 60_000;
    expect(accounts.session(s.id, { touch: false })).not.toBeNull(); // 20 min idle: alive, clock not moved
    now.t += 11 * 60_000;
    expect(accounts.session(s.id)).toBeNull(); // 31 min idle
    now.t -= 60 * 60_000;
    expect(accounts.session(s.id)).toBeNull(); // deleted, not merely refused
  });

  it('ends every session at the absolute limit and on logout', async () => {
    const { accounts, now } = setup();
    const u = await accounts.addUser('张敏', 'officer', undefined, 'long-enough-pw');
    const s = accounts.createSession(u);
    for (let i = 0; i < 24; i++) {
      now.t += 25 * 60_000;
      accounts.session(s.id);
    }
    expect(accounts.session(s.id)).not.toBeNull(); // 10 h of steady activity is fine…
    for (let i = 0; i < 6; i++) {
      now.t += 25 * 60_000;
      accounts.session(s.id);
    }
    expect(accounts.session(s.id)).toBeNull(); // …12.5 h is past the absolute limit
    const t = accounts.createSession(u);
    accounts.destroySession(t.id);
    expect(accounts.session(t.id)).toBeNull();
  });

  it('ends the sessions of a user whose password changes', async () => {
    const { accounts } = setup();
    const s = accounts.createSession(await accounts.addUser('张敏', 'officer', undefined, 'long-enough-pw'));
    await accounts.setPassword('张敏', 'a-new-long-password');
    expect(accounts.session(s.id)).toBeNull();
    expect(await accounts.verifyPassword('张敏', 'a-new-long-password')).not.toBeNull();
  });
});

describe('API tokens', () => {
  it('are sst_ + 32 random bytes, stored as sha256, and name their principal', () => {
    const { db, accounts } = setup();
    const { token, info } = accounts.createToken('province-dashboard', 'officer');
    expect(token).toMatch(/^sst_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'province-dashboard', role: 'officer' });
    const stored = db.prepare('SELECT token_hash FROM desk_tokens').get() as { token_hash: string };
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.token_hash).not.toContain(token.slice(4));
    expect(accounts.verifyToken(token)).toEqual({ name: 'token:province-dashboard', role: 'officer', via: 'token' });
    expect(accounts.verifyToken(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(accounts.verifyToken('sst_')).toBeNull();
    expect(accounts.listTokens()[0]!.lastUsedAt).not.toBeNull();
  });

  it('carries a county region and can be revoked', () => {
    const { accounts } = setup();
    const { token } = accounts.createToken('donghu-sync', 'county', '360102');
    expect(accounts.verifyToken(token)).toMatchObject({ role: 'county', region: '360102' });
    expect(() => accounts.createToken('donghu-sync', 'county', '360102')).toThrow(/already exists/);
    expect(() => accounts.createToken('anon', 'county')).toThrow(/region/);
    expect(accounts.revokeToken('donghu-sync')).toBe(true);
    expect(accounts.verifyToken(token)).toBeNull();
  });
});

describe('the demo account', () => {
  it('is created once, with a random password printed once, only when there are no users', async () => {
    const { accounts } = setup();
    const lines: string[] = [];
    const pw = await ensureDemoAccount(accounts, (l) => lines.push(l));
    expect(pw).toMatch(/^[A-Za-z2-9]{16}$/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(pw!);
    expect(await accounts.verifyPassword('demo', pw!)).toMatchObject({ role: 'officer' });
    expect(await ensureDemoAccount(accounts, (l) => lines.push(l))).toBeNull();
    expect(lines).toHaveLength(1);
  });

  it('is not created when a real user exists', async () => {
    const { accounts } = setup();
    await accounts.addUser('张敏', 'officer', undefined, 'long-enough-pw');
    expect(await ensureDemoAccount(accounts, () => {})).toBeNull();
    expect(accounts.listUsers().map((u) => u.name)).toEqual(['张敏']);
  });

  it('random passwords differ and avoid look-alike characters', () => {
    const a = randomPassword();
    const b = randomPassword();
    expect(a).not.toBe(b);
    expect(a + b).not.toMatch(/[0O1lI]/);
  });
});
