import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildDesk, registeredRoutes } from '../../src/desk/server.ts';
import type { DeskDeps } from '../../src/desk/server.ts';
import { ACCESS, ruleFor } from '../../src/desk/access.ts';
import { ConfigError } from '../../src/core/errors.ts';
import type { Accounts } from '../../src/auth/accounts.ts';
import { MemoryStore } from './memory-store.ts';
import { ALERTS, ITEMS } from './fixtures.ts';
import { PASSWORDS, cookieFrom, login, seedAccounts } from './auth-helpers.ts';

let store: MemoryStore;
let accounts: Accounts;
let app: FastifyInstance;
let clock: { t: number };

function deps(over: Partial<DeskDeps> = {}): DeskDeps {
  return { store, accounts, health: async () => ({ store: 'ok' }), now: () => new Date('2026-11-29T04:00:00.000Z'), ...over };
}

beforeEach(async () => {
  store = new MemoryStore(() => new Date('2026-11-29T03:00:00.000Z'));
  await store.upsertItems(ITEMS);
  await store.upsertAlerts(ALERTS);
  clock = { t: Date.parse('2026-11-29T03:00:00.000Z') };
  accounts = await seedAccounts({ now: () => new Date(clock.t) });
  app = buildDesk(deps());
});

afterEach(async () => {
  await app.close();
});

const sample = (url: string) => url.replace(':id', 'a-canteen').replace('*', 'desk.css');
const ids = (body: { items: { id: string }[] }) => body.items.map((a) => a.id).sort();

describe('deny by default: the access table', () => {
  it('has a rule for every route the desk registers', async () => {
    await app.ready();
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter((r) => !ruleFor(r.method, r.url)).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it('has no rule for a route that does not exist (no stale, misleading entries)', async () => {
    await app.ready();
    const have = new Set(registeredRoutes(app).map((r) => `${r.method} ${r.url}`));
    expect(Object.keys(ACCESS).filter((k) => !have.has(k))).toEqual([]);
  });

  it('refuses a route that was added without a rule', async () => {
    app = buildDesk(deps());
    app.get('/api/v1/forgotten', async () => ({ secret: true }));
    const officer = await login(() => app, '张敏', PASSWORDS.officer);
    const r = await officer.get('/api/v1/forgotten');
    expect(r.statusCode).toBe(403);
    expect(r.body).not.toContain('secret');
  });

  const protectedRoutes = Object.entries(ACCESS).filter(([, rule]) => !('public' in rule));
  it.each(protectedRoutes.map(([k, rule]) => [k, rule] as const))('%s needs a login', async (key, rule) => {
    const [method, url] = key.split(' ') as [string, string];
    const r = await app.inject({ method: method as 'GET' | 'POST', url: sample(url), payload: method === 'POST' ? {} : undefined });
    if ('page' in rule && rule.page) {
      expect(r.statusCode).toBe(302);
      expect(r.headers.location).toBe(`/login?next=${encodeURIComponent(sample(url))}`);
    } else {
      expect(r.statusCode).toBe(401);
    }
  });

  it.each(['/healthz', '/login', '/ui/desk.css', '/ui/login.js', '/vendor/echarts.min.js'])('%s is public', async (url) => {
    const r = await app.inject({ method: 'GET', url });
    expect(r.statusCode).toBe(200);
  });

  it('refuses everything but the public routes when no accounts are configured', async () => {
    app = buildDesk(deps({ accounts: undefined }));
    expect((await app.inject({ method: 'GET', url: '/api/v1/alerts' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('login and sessions', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and a readable CSRF cookie', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { name: '张敏', password: PASSWORDS.officer } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ user: { name: '张敏', role: 'officer', region: null }, csrf: expect.any(String) });
    const cookies = r.headers['set-cookie'] as string[];
    const session = cookies.find((c) => c.startsWith('sentinel_session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).not.toMatch(/Secure/);
    const csrf = cookies.find((c) => c.startsWith('sentinel_csrf='))!;
    expect(csrf).not.toMatch(/HttpOnly/);
    expect(csrf).toContain(r.json().csrf);
  });

  it('marks cookies Secure when configured for https', async () => {
    app = buildDesk(deps(), { secureCookies: true });
    const r = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { name: '张敏', password: PASSWORDS.officer } });
    for (const c of r.headers['set-cookie'] as string[]) expect(c).toMatch(/; Secure/);
  });

  it('answers a wrong password in Chinese without saying which part was wrong', async () => {
    const wrongPw = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { name: '张敏', password: 'nope-nope-nope' } });
    const noUser = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { name: '李静', password: 'nope-nope-nope' } });
    expect(wrongPw.statusCode).toBe(401);
    expect(noUser.statusCode).toBe(401);
    expect(wrongPw.json()).toEqual({ error: '用户名或密码错误' });
    expect(noUser.json()).toEqual(wrongPw.json());
    expect(wrongPw.headers['set-cookie']).toBeUndefined();
  });

  it('takes JSON only, so a cross-site form cannot log a browser in', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `name=${encodeURIComponent('张敏')}&password=${PASSWORDS.officer}`,
    });
    expect([415, 400]).toContain(r.statusCode);
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('stops checking passwords for a name after 5 failures', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await app.inject({ method: 'POST', url: '/api/v1/login', payload: { name: '张敏', password: `guess-${i}-guess` } })).statusCode).toBe(401);
    }
    const r = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { name: '张敏', password: PASSWORDS.officer } });
    expect(r.statusCode).toBe(429);
  });

  it('issues a new session id at login and drops the one the browser came with (no fixation)', async () => {
    const first = await login(() => app, '张敏', PASSWORDS.officer);
    const r = await app.inject({ method: 'POST', url: '/api/v1/login', headers: { cookie: first.cookie }, payload: { name: '张敏', password: PASSWORDS.officer } });
    const second = cookieFrom(r.headers['set-cookie']);
    expect(second).not.toBe(first.cookie);
    expect((await first.get('/api/v1/me')).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: second } })).json()).toMatchObject({ name: '张敏' });
  });

  it('logs out: the session is gone and the cookies are cleared', async () => {
    const officer = await login(() => app, '张敏', PASSWORDS.officer);
    const r = await officer.post('/api/v1/logout', {});
    expect(r.statusCode).toBe(200);
    expect((r.headers['set-cookie'] as string[]).every((c) => /Max-Age=0/.test(c))).toBe(true);
    expect((await officer.get('/api/v1/alerts')).statusCode).toBe(401);
  });

  it('ends an idle session after 30 minutes; activity keeps it alive, the live feed does not', async () => {
    const officer = await login(() => app, '张敏', PASSWORDS.officer);
    clock.t += 25 * 60_000;
    expect((await officer.get('/api/v1/stats')).statusCode).toBe(200);
    clock.t += 25 * 60_000;
    expect((await officer.get('/api/v1/me')).statusCode).toBe(200);
    clock.t += 31 * 60_000;
    expect((await officer.get('/api/v1/me')).statusCode).toBe(401);
  });

  it('says who is logged in', async () => {
    const county = await login(() => app, '东湖区局', PASSWORDS.county);
    expect((await county.get('/api/v1/me')).json()).toMatchObject({ name: '东湖区局', role: 'county', region: '360102', regionName: '江西省南昌市东湖区', via: 'session' });
  });
});

describe('CSRF', () => {
  it('refuses a state change without the token, or with another session’s token', async () => {
    const officer = await login(() => app, '张敏', PASSWORDS.officer);
    const admin = await login(() => app, 'admin', PASSWORDS.admin);
    const url = '/api/v1/alerts/a-canteen/actions';
    const none = await app.inject({ method: 'POST', url, headers: { cookie: officer.cookie }, payload: { action: 'acknowledge' } });
    expect(none.statusCode).toBe(403);
    expect(none.json().error).toMatch(/CSRF/);
    const foreign = await officer.post(url, { action: 'acknowledge' }, { 'x-csrf-token': admin.csrf });
    expect(foreign.statusCode).toBe(403);
    expect((await store.getAlert('a-canteen'))!.status).toBe('new');
    const ok = await officer.post(url, { action: 'acknowledge' });
    expect(ok.statusCode).toBe(200);
  });

  it('does not ask a bearer token for one (a browser never sends it by itself)', async () => {
    const { token } = accounts.createToken('province-dashboard', 'officer');
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/a-canteen/actions',
      headers: { authorization: `Bearer ${token}` },
      payload: { action: 'note', note: '省平台同步' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().history.at(-1)).toMatchObject({ actor: 'token:province-dashboard', action: 'note' });
  });

  it('rejects a wrong bearer token outright, even with a valid cookie', async () => {
    const officer = await login(() => app, '张敏', PASSWORDS.officer);
    const r = await officer.get('/api/v1/alerts', { authorization: 'Bearer sst_forged' });
    expect(r.statusCode).toBe(401);
  });
});

describe('county users see and act on their own region only', () => {
  // fixtures: a-canteen 东湖区 360102, a-takeout 青山湖区 360111, a-milk 深圳 440305, a-rumour no region
  it('lists only their alerts, whatever region filter they send', async () => {
    const county = await login(() => app, '东湖区局', PASSWORDS.county);
    expect(ids((await county.get('/api/v1/alerts')).json())).toEqual(['a-canteen']);
    expect(ids((await county.get('/api/v1/alerts?region=360000')).json())).toEqual(['a-canteen']);
    expect(ids((await county.get('/api/v1/alerts?region=360111')).json())).toEqual([]);
    expect((await county.get('/api/v1/alerts?region=440305')).json()).toEqual({ total: 0, items: [] });
  });

  it('gets 404 for another region’s alert, to read or to act on', async () => {
    const county = await login(() => app, '东湖区局', PASSWORDS.county);
    expect((await county.get('/api/v1/alerts/a-canteen')).statusCode).toBe(200);
    for (const id of ['a-takeout', 'a-milk', 'a-rumour']) {
      expect((await county.get(`/api/v1/alerts/${id}`)).statusCode, id).toBe(404);
      const act = await county.post(`/api/v1/alerts/${id}/actions`, { action: 'note', note: '越权' });
      expect(act.statusCode, id).toBe(404);
    }
    expect((await store.getAlert('a-takeout'))!.history).toHaveLength(1);
    const ok = await county.post('/api/v1/alerts/a-canteen/actions', { action: 'acknowledge' });
    expect(ok.json().history.at(-1).actor).toBe('东湖区局');
  });

  it('sees only their items, stats and no provincial source status', async () => {
    const county = await login(() => app, '东湖区局', PASSWORDS.county);
    expect(ids((await county.get('/api/v1/items')).json())).toEqual(['i-canteen-12315', 'i-canteen-news']);
    expect((await county.get('/api/v1/items/i-takeout-12345')).statusCode).toBe(404);
    const stats = (await county.get('/api/v1/stats')).json();
    expect(stats.alerts).toEqual({ total: 1, byLevel: { 红: 1 }, byStatus: { new: 1 } });
    expect(stats.items.total).toBe(2);
    expect((await county.get('/api/v1/sources')).statusCode).toBe(403);
  });

  it('applies the same scope to a county bearer token', async () => {
    const { token } = accounts.createToken('qingshanhu-sync', 'county', '360111');
    const r = await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { authorization: `Bearer ${token}` } });
    expect(ids(r.json())).toEqual(['a-takeout']);
  });

  it('leaves the province officer unscoped', async () => {
    const officer = await login(() => app, '张敏', PASSWORDS.officer);
    expect((await officer.get('/api/v1/alerts')).json().total).toBe(4);
  });
});

describe('POST /api/v1/rules/reload', () => {
  it('is for admins only', async () => {
    let calls = 0;
    app = buildDesk(deps({ reloadRules: async () => (calls++, { rules: [1, 2, 3] }) }));
    const officer = await login(() => app, '张敏', PASSWORDS.officer);
    expect((await officer.post('/api/v1/rules/reload', {})).statusCode).toBe(403);
    const admin = await login(() => app, 'admin', PASSWORDS.admin);
    const r = await admin.post('/api/v1/rules/reload', {});
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ ok: true, rules: 3 });
    expect(calls).toBe(1);
  });

  it('answers 422 with the file, line and field when the new rules are bad', async () => {
    app = buildDesk(deps({ reloadRules: async () => Promise.reject(new ConfigError('rules/risk/school.yaml', 'levels.红', 'expected a number', 12)) }));
    const admin = await login(() => app, 'admin', PASSWORDS.admin);
    const r = await admin.post('/api/v1/rules/reload', {});
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({ error: 'rules/risk/school.yaml:12: levels.红: expected a number', line: 12 });
  });

  it('is 501 when the process cannot reload rules', async () => {
    const admin = await login(() => app, 'admin', PASSWORDS.admin);
    expect((await admin.post('/api/v1/rules/reload', {})).statusCode).toBe(501);
  });
});
