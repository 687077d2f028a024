import { describe, expect, it, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { Accounts } from '../../src/auth/accounts.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { tempDir } from '../helpers/tmp.ts';

const t = tempDir('sentinel-cli-auth-');
afterAll(() => t.cleanup());

function sentinel(args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [resolve('bin/sentinel.js'), ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, SENTINEL_DATA: t.dir, SENTINEL_STORE: '', LOG_LEVEL: 'silent' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const accounts = () => new Accounts(openDatabase(join(t.dir, 'sentinel.db')));

describe('sentinel user add', () => {
  it('adds a user with the password from stdin', async () => {
    const r = sentinel(['user', 'add', '张敏', '--role', 'officer', '--password-stdin'], 'a-long-password-1\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await accounts().verifyPassword('张敏', 'a-long-password-1')).toMatchObject({ role: 'officer' });
  });

  it('adds a county user with its region', async () => {
    const r = sentinel(['user', 'add', '东湖区局', '--role', 'county', '--region', '360102', '--password-stdin'], 'county-password-1\n');
    expect(r.code).toBe(0);
    expect((await accounts().verifyPassword('东湖区局', 'county-password-1'))?.region).toBe('360102');
  });

  it.each([
    [['user', 'add', '李静', '--role', 'officer'], /--password-stdin/],
    [['user', 'add', '李静', '--role', 'county', '--password-stdin'], /--region/],
    [['user', 'add', '李静', '--role', 'chief', '--password-stdin'], /officer, county, admin/],
    [['user', 'add', '李静', '--role', 'officer', '--region', '360102', '--password-stdin'], /county users only/],
  ])('exits 2 on wrong usage: %j', (args, message) => {
    const r = sentinel(args as string[], 'a-long-password-2\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('exits 2 on a too-short password, naming the problem', () => {
    const r = sentinel(['user', 'add', '李静', '--role', 'officer', '--password-stdin'], 'short\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/password: at least 10 characters/);
  });
});

describe('sentinel token create', () => {
  it('prints the token on its last line and stores only its hash', () => {
    const r = sentinel(['token', 'create', '--name', 'province-dashboard', '--role', 'officer']);
    expect(r.code).toBe(0);
    const token = r.stdout.trimEnd().split('\n').at(-1)!;
    expect(token).toMatch(/^sst_[A-Za-z0-9_-]{43}$/);
    expect(accounts().verifyToken(token)).toMatchObject({ name: 'token:province-dashboard', role: 'officer' });
    expect(readFileSync(join(t.dir, 'sentinel.db')).includes(Buffer.from(token))).toBe(false);
  });

  it('exits 2 for a county token without a region', () => {
    const r = sentinel(['token', 'create', '--name', 'donghu', '--role', 'county']);
    expect(r.code).toBe(2);
  });
});

describe('sentinel report', () => {
  it('writes the day’s briefing as Markdown and HTML', () => {
    const md = sentinel(['report', '--day', '2026-11-29', '--format', 'md']);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# 食品安全舆情日报（2026-11-29）/);
    const out = join(t.dir, 'briefing.html');
    const html = sentinel(['report', '--day', '2026-11-29', '--out', out]);
    expect(html.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('<style>');
    expect(text).not.toContain('<script');
  });

  it('exits 2 on a malformed day', () => {
    expect(sentinel(['report', '--day', '29/11/2026']).code).toBe(2);
  });
});
