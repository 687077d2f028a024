import { describe, it, expect, beforeAll, beforeEach, afterEach } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildDesk } from '../../src/desk/server.ts';
import { SilenceStore } from '../../src/alerts/silences-store.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { listChannels } from '../../src/notify/channels.ts';
import type { TestOutcome } from '../../src/notify/sender.ts';
import type { Accounts } from '../../src/auth/accounts.ts';
import { parseRoutes } from '../../src/config/routes.ts';
import { MemoryStore } from './memory-store.ts';
import { PASSWORDS, login, seedAccounts, type Client } from './auth-helpers.ts';

const routes = parseRoutes(
  `
offices:
  - id: donghu-district
    name: 南昌市东湖区市场监督管理局
    region: '360102'
    channels:
      - dingtalk: { url: 'http://10.0.0.5/robot/send?access_token=\${DH_TOKEN}', secretEnv: DH_SECRET }
`,
  'routes.yaml',
  { DH_TOKEN: 'tok-donghu-secret', DH_SECRET: 'SEC-donghu-secret' },
);

describe('desk: push channels and silences', () => {
  let accounts: Accounts;
  let app: FastifyInstance;
  let silences: SilenceStore;
  const tests: { name: string; by: string }[] = [];
  let officer: Client;
  let county: Client;
  let admin: Client;

  beforeAll(async () => {
    accounts = await seedAccounts();
  });
  beforeEach(async () => {
    tests.length = 0;
    silences = new SilenceStore(openDatabase(':memory:'), { now: () => new Date('2026-11-29T03:00:00.000Z') });
    app = buildDesk({
      store: new MemoryStore(() => new Date('2026-11-29T03:00:00.000Z')),
      health: async () => ({ store: 'ok' }),
      accounts,
      silences,
      queue: {
        kind: 'memory',
        enqueue: async () => undefined,
        work: () => { throw new Error('not here'); },
        deliveriesFor: async () => [],
        channelCounts: async () => ({ 'donghu-district/dingtalk': { delivered: 7, pending: 1, dead: 2 } }),
        close: async () => undefined,
      },
      channels: {
        list: () => listChannels(routes, []),
        sendTest: async (name: string, by: string): Promise<TestOutcome> => {
          tests.push({ name, by });
          return { channel: name, ok: true, status: 200, ms: 3 };
        },
      },
    });
    officer = await login(() => app, '张敏', PASSWORDS.officer);
    county = await login(() => app, '东湖区局', PASSWORDS.county);
    admin = await login(() => app, 'admin', PASSWORDS.admin);
  });
  afterEach(() => app.close());

  const del = (c: Client, id: string) =>
    app.inject({ method: 'DELETE', url: `/api/v1/silences/${encodeURIComponent(id)}`, headers: { cookie: c.cookie, 'x-csrf-token': c.csrf } });

  it('lists channels with counts for an administrator only, without URL, token or secret', async () => {
    const r = await admin.get('/api/v1/channels');
    expect(r.statusCode).toBe(200);
    expect(r.json().channels).toEqual([
      expect.objectContaining({ name: 'donghu-district/dingtalk', kind: 'dingtalk', enabled: true, counts: { delivered: 7, pending: 1, dead: 2 } }),
    ]);
    for (const leak of ['tok-donghu-secret', 'SEC-donghu-secret', '10.0.0.5']) expect(r.body).not.toContain(leak);
    expect((await officer.get('/api/v1/channels')).statusCode).toBe(403);
    expect((await county.get('/api/v1/channels')).statusCode).toBe(403);
  });

  it('sends a test message through a named channel for an administrator', async () => {
    const url = `/api/v1/channels/${encodeURIComponent('donghu-district/dingtalk')}/test`;
    const r = await admin.post(url, {});
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ channel: 'donghu-district/dingtalk', ok: true });
    expect(tests).toEqual([{ name: 'donghu-district/dingtalk', by: 'admin' }]);
    expect((await admin.post('/api/v1/channels/nowhere/test', {})).statusCode).toBe(404);
    expect((await officer.post(url, {})).statusCode).toBe(403);
    expect(tests).toHaveLength(1);
  });

  it('an officer sets, lists and ends a silence; each step is audited with who', async () => {
    const r = await officer.post('/api/v1/silences', { category: '校园集中供餐', region: '360102', until: '4h', reason: '区局已在现场处置' });
    expect(r.statusCode).toBe(201);
    const s = r.json();
    expect(s).toMatchObject({ createdBy: '张敏', state: 'active', until: '2026-11-29T07:00:00.000Z' });
    expect((await officer.get('/api/v1/silences')).json().silences.map((x: { id: string }) => x.id)).toEqual([s.id]);
    const d = await del(admin, s.id);
    expect(d.statusCode).toBe(200);
    expect(d.json()).toMatchObject({ state: 'deleted', deletedBy: 'admin' });
    expect(d.json().audit.map((a: { action: string; actor: string }) => `${a.action}:${a.actor}`)).toEqual(['create:张敏', 'delete:admin']);
    expect((await del(admin, 'sil-none')).statusCode).toBe(404);
  });

  it('a county office silences only within its region and sees only silences that concern it', async () => {
    const out = await county.post('/api/v1/silences', { category: '校园集中供餐', region: '360731', until: '1h', reason: '不是本区的' });
    expect(out.statusCode).toBe(403);
    const own = await county.post('/api/v1/silences', { category: '校园集中供餐', region: '360102', until: '1h', reason: '本区现场处置中' });
    expect(own.statusCode).toBe(201);
    const other = (await officer.post('/api/v1/silences', { category: '餐饮服务', region: '360731', until: '1h', reason: '于都县局处置中' })).json();
    const city = (await officer.post('/api/v1/silences', { category: '餐饮服务', region: '360100', until: '1h', reason: '南昌市统一处置' })).json();
    const seen = (await county.get('/api/v1/silences')).json().silences.map((x: { id: string }) => x.id).sort();
    expect(seen).toEqual([own.json().id, city.id].sort());
    // another region's silence is not found for the county; the city's covers it but is not its to end
    expect((await del(county, other.id)).statusCode).toBe(404);
    expect((await del(county, city.id)).statusCode).toBe(404);
    expect((await del(county, own.json().id)).statusCode).toBe(200);
  });

  it('names the field of an invalid silence', async () => {
    const r = await officer.post('/api/v1/silences', { category: '校园集中供餐', region: '360102', until: 'soon', reason: '现场处置' });
    expect(r.statusCode).toBe(400);
    expect(r.json().issues[0].path).toBe('until');
    const r2 = await officer.post('/api/v1/silences', { region: '360102', until: '1h', reason: '现场处置', extra: 1 });
    expect(r2.statusCode).toBe(400);
    expect(r2.json().issues.map((i: { path: string }) => i.path)).toContain('extra');
    const r3 = await officer.post('/api/v1/silences', { region: '360102', until: '1h', reason: '现场处置' });
    expect(r3.statusCode).toBe(400);
    expect(r3.json().issues[0].message).toMatch(/rule or a category/);
  });

  it('serves the page 推送通道与静默 to every desk role', async () => {
    const r = await county.get('/channels');
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('推送通道与静默');
    expect((await county.get('/ui/channels.js')).statusCode).toBe(200);
    expect((await county.get('/ui/channels.css')).statusCode).toBe(200);
  });
});
