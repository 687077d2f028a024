import { readFile, readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildDesk, startDesk, CONTENT_SECURITY_POLICY } from '../../src/desk/server.ts';
import type { DeskDeps } from '../../src/desk/server.ts';
import { UI_FILES } from '../../src/desk/static.ts';
import type { Delivery, DeliveryState, Queue, QueueWorker } from '../../src/notify/queue.ts';
import { MemoryStore } from './memory-store.ts';
import type { Accounts } from '../../src/auth/accounts.ts';
import { PASSWORDS, login, seedAccounts, type Client } from './auth-helpers.ts';
import { ALERTS, ITEMS, canteenAlert, canteenDelivery, takeoutAlert, milkAlert } from './fixtures.ts';

/** Holds delivery states for the alert page; the desk only ever reads them. */
class MemoryQueue implements Queue {
  readonly kind = 'memory';
  readonly states: DeliveryState[] = [];
  failWith: Error | null = null;
  async enqueue(ds: Delivery[]): Promise<void> {
    const now = new Date().toISOString();
    for (const d of ds) this.states.push({ ...d, status: 'pending', attempts: 0, lastError: null, nextAttemptAt: now, updatedAt: now });
  }
  work(): QueueWorker {
    throw new Error('the desk never works the queue');
  }
  async deliveriesFor(alertId: string): Promise<DeliveryState[]> {
    if (this.failWith) throw this.failWith;
    return this.states.filter((d) => d.alertId === alertId);
  }
  async close(): Promise<void> {}
}

let store: MemoryStore;
let queue: MemoryQueue;
let app: FastifyInstance;
let engines: Record<string, string>;
let accounts: Accounts;
let officer: Client;

function deps(over: Partial<DeskDeps> = {}): DeskDeps {
  return {
    store,
    queue,
    health: async () => engines,
    sources: async () => [{ id: 'jxnews', status: 'ok', lastFetchAt: '2026-11-29T02:00:00.000Z' }],
    accounts,
    ...over,
  };
}

beforeEach(async () => {
  store = new MemoryStore(() => new Date('2026-11-29T03:00:00.000Z'));
  await store.upsertItems(ITEMS);
  await store.upsertAlerts(ALERTS);
  queue = new MemoryQueue();
  queue.states.push(canteenDelivery);
  engines = { bus: 'ok', store: 'ok', queue: 'ok' };
  accounts ??= await seedAccounts();
  app = buildDesk(deps());
  officer = await login(() => app, '张敏', PASSWORDS.officer);
});

afterEach(async () => {
  await app.close();
});

const get = (url: string) => officer.get(url);
const act = (id: string, payload: unknown, headers: Record<string, string> = {}) =>
  officer.post(`/api/v1/alerts/${encodeURIComponent(id)}/actions`, payload, headers);
const ids = (body: { items: { id: string }[] }) => body.items.map((a) => a.id);
const enc = encodeURIComponent;

describe('GET /healthz', () => {
  it('is 200 ok when every engine is ok', async () => {
    const r = await get('/healthz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok', engines: { bus: 'ok', store: 'ok', queue: 'ok' } });
  });

  it('is 503 degraded, with the same shape, when one engine reports an error', async () => {
    engines = { bus: 'ok', store: 'SQLITE_BUSY: database is locked', queue: 'ok' };
    const r = await get('/healthz');
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ status: 'degraded', engines });
  });

  it('is 503 degraded when the health check itself throws', async () => {
    await app.close();
    app = buildDesk(deps({ health: async () => Promise.reject(new Error('bus unreachable')) }));
    const r = await get('/healthz');
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ status: 'degraded', engines: { health: 'bus unreachable' } });
  });
});

describe('GET /api/v1/alerts', () => {
  it('lists alerts newest first with the total', async () => {
    const r = await get('/api/v1/alerts');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.total).toBe(4);
    expect(ids(body)).toEqual(['a-canteen', 'a-takeout', 'a-rumour', 'a-milk']);
  });

  it('filters by level, given as a comma list or as repeated parameters', async () => {
    const comma = (await get(`/api/v1/alerts?level=${enc('红,黄')}`)).json();
    const repeated = (await get(`/api/v1/alerts?level=${enc('红')}&level=${enc('黄')}`)).json();
    expect(ids(comma)).toEqual(['a-canteen', 'a-takeout']);
    expect(ids(repeated)).toEqual(ids(comma));
  });

  it('filters by category, status, region prefix, keyword and time', async () => {
    expect(ids((await get(`/api/v1/alerts?category=${enc('校园集中供餐')}`)).json())).toEqual(['a-canteen', 'a-rumour']);
    expect(ids((await get('/api/v1/alerts?status=new,acknowledged')).json())).toEqual(['a-canteen', 'a-takeout']);
    // 3601 = 南昌市 matches both of its districts, not 深圳 (4403).
    expect(ids((await get('/api/v1/alerts?region=360100')).json())).toEqual(['a-canteen', 'a-takeout']);
    expect(ids((await get(`/api/v1/alerts?q=${enc('送医')}`)).json())).toEqual(['a-canteen']);
    const window = (await get(`/api/v1/alerts?from=2026-11-27T00:00:00Z&to=${enc('2026-11-28T23:00:00+08:00')}`)).json();
    expect(ids(window)).toEqual(['a-takeout', 'a-rumour']);
  });

  it('pages with limit and offset while total counts every match', async () => {
    const body = (await get('/api/v1/alerts?limit=2&offset=1')).json();
    expect(body.total).toBe(4);
    expect(ids(body)).toEqual(['a-takeout', 'a-rumour']);
    expect(store.alertQueries.at(-1)).toMatchObject({ limit: 2, offset: 1 });
  });

  it('adds the region name next to a known GB/T 2260 code', async () => {
    const body = (await get('/api/v1/alerts?limit=1')).json();
    expect(body.items[0]).toMatchObject({ region: '360102', regionName: '江西省南昌市东湖区' });
    const rumour = (await get(`/api/v1/alerts?level=${enc('蓝')}`)).json().items[0];
    expect(rumour.region).toBe('');
    expect(rumour).not.toHaveProperty('regionName');
  });

  it('rejects an invalid value with 400 naming the field', async () => {
    const r = await get(`/api/v1/alerts?level=${enc('紫')}`);
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.error).toBe('invalid query');
    expect(body.issues).toHaveLength(1);
    expect(body.issues[0].path).toBe('level');
    expect(body.issues[0].message).toMatch(/红/);
  });

  it('reports every bad field at once', async () => {
    const r = await get('/api/v1/alerts?limit=0&from=yesterday&region=nanchang&status=open');
    expect(r.statusCode).toBe(400);
    const paths = r.json().issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['from', 'limit', 'region', 'status']);
  });

  it('rejects unknown parameters, naming them', async () => {
    const r = await get(`/api/v1/alerts?levle=${enc('红')}&page=2`);
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.error).toBe('invalid query');
    expect(body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['levle', 'page']);
    expect(body.issues[0].message).toMatch(/unknown parameter/);
    expect(body.issues[0].message).toMatch(/level/); // the hint lists what is allowed
  });

  it('does not accept item-only filters on alerts', async () => {
    const r = await get('/api/v1/alerts?risk=true');
    expect(r.statusCode).toBe(400);
    expect(r.json().issues[0].path).toBe('risk');
  });

  it('filters by source kind: alerts with at least one item of that kind, paged after filtering', async () => {
    // fixtures: a-canteen news+complaint, a-takeout complaint, a-milk news, a-rumour news
    const complaints = (await get('/api/v1/alerts?kind=complaint')).json();
    expect(complaints.total).toBe(2);
    expect(complaints.items.map((a: { id: string }) => a.id).sort()).toEqual(['a-canteen', 'a-takeout']);
    const news = (await get('/api/v1/alerts?kind=news&limit=2&offset=1')).json();
    expect(news.total).toBe(3);
    expect(news.items).toHaveLength(2);
    expect((await get('/api/v1/alerts?kind=notice')).json()).toEqual({ total: 0, items: [] });
    // combined with the store's own filters
    expect((await get('/api/v1/alerts?kind=complaint&level=黄')).json().items.map((a: { id: string }) => a.id)).toEqual(['a-takeout']);
    // the store never sees `kind`: it has no such alert filter
    expect(store.alertQueries.every((q) => !('kind' in q))).toBe(true);
  });

  it('names a wrong source kind', async () => {
    const r = await get('/api/v1/alerts?kind=weibo');
    expect(r.statusCode).toBe(400);
    expect(r.json().issues[0].path).toBe('kind');
  });

  it('filters by a city code: every county under it matches', async () => {
    const nanchang = (await get('/api/v1/alerts?region=360100')).json();
    expect(nanchang.items.map((a: { id: string }) => a.id).sort()).toEqual(['a-canteen', 'a-takeout']);
    expect((await get('/api/v1/alerts?region=360000&kind=news')).json().items.map((a: { id: string }) => a.id)).toEqual(['a-canteen']);
  });
});

describe('GET /api/v1/alerts/:id', () => {
  it('returns the alert with its items and deliveries', async () => {
    const r = await get('/api/v1/alerts/a-canteen');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ id: 'a-canteen', title: canteenAlert.title, version: 0, regionName: '江西省南昌市东湖区' });
    expect(body.regionPath).toEqual([
      { code: '360000', name: '江西省' },
      { code: '360100', name: '南昌市' },
      { code: '360102', name: '东湖区' },
    ]);
    expect(body.items.map((i: { id: string }) => i.id)).toEqual(['i-canteen-news', 'i-canteen-12315']);
    expect(body.items[0].hits).toHaveLength(4);
    expect(body.deliveries).toEqual([canteenDelivery]);
  });

  it('gives an empty deliveries list without a queue', async () => {
    await app.close();
    app = buildDesk(deps({ queue: undefined }));
    const body = (await get('/api/v1/alerts/a-takeout')).json();
    expect(body.items.map((i: { id: string }) => i.id)).toEqual(['i-takeout-12345']);
    expect(body.deliveries).toEqual([]);
  });

  it('still shows the alert when the queue cannot be read', async () => {
    queue.failWith = new Error('redis connection refused');
    const r = await get('/api/v1/alerts/a-canteen');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: 'a-canteen', deliveries: [], deliveriesError: 'redis connection refused' });
  });

  it('is 404 with the id for an unknown alert', async () => {
    const r = await get('/api/v1/alerts/a-nope');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: 'alert not found', id: 'a-nope' });
  });
});

describe('POST /api/v1/alerts/:id/actions', () => {
  it('acknowledges as the logged-in officer and bumps the version', async () => {
    const r = await act('a-canteen', { action: 'acknowledge', expectedVersion: 0 });
    expect(r.statusCode).toBe(200);
    const a = r.json();
    expect(a).toMatchObject({ id: 'a-canteen', status: 'acknowledged', version: 1 });
    expect(a.history.at(-1)).toMatchObject({ action: 'acknowledge', actor: '张敏', from: 'new', to: 'acknowledged' });
    expect((await store.getAlert('a-canteen'))!.status).toBe('acknowledged');
  });

  it('ignores a client-sent x-sentinel-actor: the history names who logged in', async () => {
    const r = await act('a-takeout', { action: 'assign', assignee: '青山湖区市场监管局', expectedVersion: 1 }, { 'x-sentinel-actor': '李静' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'assigned', assignee: '青山湖区市场监管局' });
    expect(r.json().history.at(-1)).toMatchObject({ actor: '张敏', action: 'assign' });
  });

  it('closes with a disposal result and reopens', async () => {
    const closed = await act('a-canteen', { action: 'close', closeReason: '核实属实', note: '已责令停业整改' });
    expect(closed.statusCode).toBe(200);
    expect(closed.json()).toMatchObject({ status: 'closed', closeReason: '核实属实' });
    const reopened = await act('a-canteen', { action: 'reopen', expectedVersion: 1 });
    expect(reopened.statusCode).toBe(200);
    expect(reopened.json()).toMatchObject({ status: 'acknowledged', version: 2 });
  });

  it('answers 409 with the current alert when someone else changed it first', async () => {
    const admin = await login(() => app, 'admin', PASSWORDS.admin);
    await admin.post('/api/v1/alerts/a-canteen/actions', { action: 'acknowledge', expectedVersion: 0 });
    const r = await act('a-canteen', { action: 'note', note: '已电话联系学校', expectedVersion: 0 });
    expect(r.statusCode).toBe(409);
    const body = r.json();
    expect(body.error).toMatch(/changed by someone else/);
    expect(body.current).toMatchObject({ id: 'a-canteen', status: 'acknowledged', version: 1 });
    expect(body.current.history.at(-1).actor).toBe('admin');
    expect((await store.getAlert('a-canteen'))!.history).toHaveLength(1);
  });

  it('answers 422 when the workflow refuses the transition', async () => {
    const r = await act(milkAlert.id, { action: 'acknowledge' });
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toMatch(/cannot acknowledge/);
    const noReason = await act('a-canteen', { action: 'close' });
    expect(noReason.statusCode).toBe(422);
    expect(noReason.json().error).toMatch(/closeReason/);
  });

  it('answers 404 for an unknown alert', async () => {
    const r = await act('a-nope', { action: 'acknowledge' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: 'alert not found', id: 'a-nope' });
  });

  it('rejects a malformed body with 400 naming the fields', async () => {
    const r = await act('a-canteen', { action: 'escalate', expectedVersion: '0', by: 'me' });
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.error).toBe('invalid action');
    expect(body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['action', 'by', 'expectedVersion']);
  });

  it('rejects a missing body and broken JSON with 400 JSON', async () => {
    const empty = await app.inject({ method: 'POST', url: '/api/v1/alerts/a-canteen/actions', headers: { cookie: officer.cookie, 'x-csrf-token': officer.csrf } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().issues[0].path).toBe('action');
    const broken = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/a-canteen/actions',
      headers: { 'content-type': 'application/json', cookie: officer.cookie, 'x-csrf-token': officer.csrf },
      payload: '{"action": ',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.headers['content-type']).toMatch(/application\/json/);
    expect(broken.json().error).toEqual(expect.any(String));
  });
});

describe('items', () => {
  it('lists items with item filters', async () => {
    expect((await get('/api/v1/items')).json().total).toBe(4);
    expect(ids((await get('/api/v1/items?kind=complaint')).json())).toEqual(['i-canteen-12315', 'i-takeout-12345']);
    expect(ids((await get('/api/v1/items?source=jxnews,jx-amr')).json())).toEqual(['i-canteen-news', 'i-notice-drill']);
    expect(ids((await get('/api/v1/items?risk=false')).json())).toEqual(['i-notice-drill']);
    expect(ids((await get(`/api/v1/items?risk=true&level=${enc('红')}`)).json())).toEqual(['i-canteen-news']);
    expect(ids((await get('/api/v1/items?region=3601&limit=1')).json())).toEqual(['i-canteen-12315']);
  });

  it('rejects an invalid item query naming the field', async () => {
    const r = await get('/api/v1/items?kind=tweet&risk=maybe');
    expect(r.statusCode).toBe(400);
    expect(r.json().issues.map((i: { path: string }) => i.path).sort()).toEqual(['kind', 'risk']);
  });

  it('returns one item or 404', async () => {
    const r = await get('/api/v1/items/i-canteen-news');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: 'i-canteen-news', sourceId: 'jxnews', level: '红' });
    // The pipeline carries tokens joined; the API gives them as the list it always has.
    expect(r.json().tokens).toEqual(['南昌市', '东湖区', '小学', '食堂', '学生', '呕吐']);
    expect((await get('/api/v1/items?source=jxnews')).json().items[0].tokens).toEqual(['南昌市', '东湖区', '小学', '食堂', '学生', '呕吐']);
    expect((await get('/api/v1/alerts/a-canteen')).json().items.find((i: { id: string }) => i.id === 'i-canteen-news').tokens).toEqual(['南昌市', '东湖区', '小学', '食堂', '学生', '呕吐']);
    const missing = await get('/api/v1/items/i-nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'item not found', id: 'i-nope' });
  });
});

describe('stats and sources', () => {
  it('returns the store stats', async () => {
    const r = await get('/api/v1/stats');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      items: {
        total: 4,
        bySource: { jxnews: 1, 'hotline-12315': 1, 'hotline-12345': 1, 'jx-amr': 1 },
        byKind: { news: 1, complaint: 2, notice: 1 },
      },
      alerts: { total: 4, byLevel: { 红: 1, 黄: 1, 橙: 1, 蓝: 1 }, byStatus: { new: 1, acknowledged: 1, closed: 1, assigned: 1 } },
    });
  });

  it('returns the source rows, or none without a provider', async () => {
    expect((await get('/api/v1/sources')).json()).toEqual({
      items: [{ id: 'jxnews', status: 'ok', lastFetchAt: '2026-11-29T02:00:00.000Z' }],
    });
    await app.close();
    app = buildDesk(deps({ sources: undefined }));
    expect((await get('/api/v1/sources')).json()).toEqual({ items: [] });
  });
});

describe('errors and headers', () => {
  it('answers unknown /api routes with 404 JSON', async () => {
    const r = await get('/api/v1/alertz?x=1');
    expect(r.statusCode).toBe(404);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.json()).toEqual({ error: 'not found', method: 'GET', path: '/api/v1/alertz' });
    const wrongMethod = await app.inject({ method: 'DELETE', url: '/api/v1/alerts/a-canteen', headers: { cookie: officer.cookie } });
    expect(wrongMethod.statusCode).toBe(404);
    expect(wrongMethod.json().error).toBe('not found');
  });

  it('hides engine errors behind a plain 500', async () => {
    store.searchAlerts = async () => {
      throw new Error('SQLITE_CORRUPT: /var/lib/sentinel/sentinel.db');
    };
    const r = await get('/api/v1/alerts');
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: 'internal error' });
  });

  it.each(['/', '/ui/desk.js', '/api/v1/alerts', '/api/v1/alerts?level=x', '/api/v1/nope', '/healthz'])(
    'sets the security headers on %s',
    async (url) => {
      const r = await get(url);
      expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    },
  );

  it('uses the strict policy the page was written for', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });
});

describe('the page and its assets', () => {
  it('serves the zh-CN desk page at /', async () => {
    const r = await get('/');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<html lang="zh-CN">');
    expect(r.body).toContain('食安哨兵 · 值班台');
  });

  it('has no inline script, inline handler or inline style', async () => {
    const html = (await get('/')).body;
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, content] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/ui\/[\w.-]+\.js"/);
      expect(content.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/<style\b|\sstyle\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  it('serves every allow-listed file with its content type', async () => {
    const types: Record<string, RegExp> = { html: /^text\/html/, css: /^text\/css/, js: /^text\/javascript/ };
    for (const name of Object.keys(UI_FILES)) {
      const r = await get(`/ui/${name}`);
      expect(r.statusCode, name).toBe(200);
      expect(r.headers['content-type'], name).toMatch(types[name.split('.').pop()!]!);
      expect(r.body.length, name).toBeGreaterThan(0);
    }
  });

  it('allow-lists every file the page loads, and every module the scripts import', async () => {
    const html = (await get('/')).body;
    const refs = [...html.matchAll(/(?:src|href)="\/ui\/([^"]+)"/g)].map((m) => m[1]);
    for (const js of Object.keys(UI_FILES).filter((n) => n.endsWith('.js'))) {
      const body = (await get(`/ui/${js}`)).body;
      refs.push(...[...body.matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]));
    }
    expect(refs.length).toBeGreaterThan(3);
    for (const ref of refs) expect(Object.keys(UI_FILES), ref).toContain(ref);
  });

  it.each([
    '/ui/../package.json',
    '/ui/%2e%2e/package.json',
    '/ui/..%2fpackage.json',
    '/ui/%2e%2e%2f%2e%2e%2fpackage.json',
    '/ui/../server.ts',
    '/ui/format.d.ts',
    '/ui/',
    '/ui/index.html/',
    '/ui/constructor',
    '/ui/__proto__',
  ])('refuses %s', async (url) => {
    const r = await get(url);
    expect(r.statusCode).toBe(404);
    expect(r.body).not.toContain('food-safety-sentinel');
    expect(r.body).not.toContain('registerUi');
  });

  it('never builds DOM from strings in the page scripts', async () => {
    const dir = new URL('../../src/desk/ui/', import.meta.url);
    const scripts = (await readdir(dir)).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const f of scripts) {
      const src = await readFile(new URL(f, dir), 'utf8');
      expect(src, f).not.toMatch(/\.(innerHTML|outerHTML)\b|insertAdjacentHTML\(|document\.write|\beval\(|new Function|createContextualFragment|DOMParser/);
    }
  });
});

describe('startDesk', () => {
  it('listens on a random local port and closes', async () => {
    const desk = await startDesk(deps(), { port: 0 });
    try {
      expect(desk.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await fetch(`${desk.url}/api/v1/alerts/${takeoutAlert.id}`, { headers: { cookie: officer.cookie } });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { id: string }).id).toBe('a-takeout');
    } finally {
      await desk.close();
    }
  });
});
