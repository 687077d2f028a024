import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildDesk } from '../../src/desk/server.ts';
import type { DeskDeps } from '../../src/desk/server.ts';
import type { Alert } from '../../src/core/types.ts';
import type { Accounts } from '../../src/auth/accounts.ts';
import { csvCell, toCsv } from '../../src/desk/ledger.ts';
import { mdCell } from '../../src/desk/briefing.ts';
import { MemoryStore } from './memory-store.ts';
import { ALERTS, ITEMS, canteenAlert, canteenComplaint } from './fixtures.ts';
import { PASSWORDS, login, seedAccounts, type Client } from './auth-helpers.ts';

let store: MemoryStore;
let accounts: Accounts;
let app: FastifyInstance;
let officer: Client;
let county: Client;
const NOW = new Date('2026-11-29T06:00:00.000Z'); // 14:00 Beijing

const hostile: Alert = {
  ...canteenAlert,
  id: 'a-hostile',
  level: '橙',
  title: '<img src=x onerror=alert(1)>=HYPERLINK("http://evil")|<script>alert(2)</script>',
  category: '餐饮服务',
  region: '360102',
  regions: ['360102'],
  itemIds: [],
  firstSeenAt: '2026-11-29T03:00:00.000Z',
  lastSeenAt: '2026-11-29T03:00:00.000Z',
  history: [{ at: '2026-11-29T04:00:00.000Z', action: 'escalate', actor: 'system', note: '红色预警 15 分钟未确认，已通知市局' }],
};

function deps(over: Partial<DeskDeps> = {}): DeskDeps {
  return { store, accounts, health: async () => ({ store: 'ok' }), now: () => NOW, ...over };
}

beforeEach(async () => {
  store = new MemoryStore(() => NOW);
  await store.upsertItems(ITEMS.map((i) => (i.id === canteenComplaint.id ? { ...i, fields: { 被投诉主体: '东湖区某小学食堂' } } : i)));
  await store.upsertAlerts([...ALERTS, hostile]);
  accounts ??= await seedAccounts();
  app = buildDesk(deps());
  officer = await login(() => app, '张敏', PASSWORDS.officer);
  county = await login(() => app, '东湖区局', PASSWORDS.county);
});

afterEach(async () => {
  await app.close();
});

describe('GET /api/v1/trends', () => {
  it('answers the documented shape for each window', async () => {
    for (const w of ['24h', '7d', '30d']) {
      const r = await officer.get(`/api/v1/trends?window=${w}`);
      expect(r.statusCode, w).toBe(200);
      const v = r.json();
      expect(v.window).toBe(w);
      expect(Object.keys(v.rising).sort()).toEqual(['businesses', 'categories', 'terms']);
      expect(v).toHaveProperty('newTerms');
      expect(v.byRegionCategory).toHaveProperty('cells');
      expect(v.series).toHaveProperty('times');
    }
  });

  it('counts the last 24 h and names the regions of the heat table', async () => {
    const v = (await officer.get('/api/v1/trends?window=24h')).json();
    // in the 24 h before NOW: the canteen news and complaint (东湖区), the takeout complaint (青山湖区)
    expect(v.total).toBe(3);
    expect(v.byRegionCategory.regions).toEqual(['360100']);
    expect(v.byRegionCategory.regionNames).toEqual(['江西省南昌市']);
  });

  it('narrows a county user to its region', async () => {
    const v = (await county.get('/api/v1/trends?window=24h')).json();
    expect(v.total).toBe(2);
    expect(v.byRegionCategory.regions).toEqual(['360102']);
  });

  it('rejects an unknown window naming the field', async () => {
    const r = await officer.get('/api/v1/trends?window=1y');
    expect(r.statusCode).toBe(400);
    expect(r.json().issues[0].path).toBe('window');
  });
});

describe('GET /api/v1/briefing', () => {
  it('renders the day as HTML with escaped text, a linked print stylesheet and no inline script', async () => {
    const r = await officer.get('/api/v1/briefing?day=2026-11-29');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    const html = r.body;
    expect(html).toContain('食品安全舆情日报（2026-11-29）');
    expect(html).toContain('<link rel="stylesheet" href="/ui/briefing.css">');
    expect(html).not.toMatch(/<img|<script>alert/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    for (const [, attrs, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(attrs).toMatch(/src="\/ui\/briefing\.js"/);
      expect(body).toBe('');
    }
    // 红 canteen and 橙 hostile were found that day; the takeout (黄, 28th) was not
    expect(html).toContain('南昌市东湖区某小学疑似食物中毒');
    expect(html).not.toContain('青山湖区外卖商家使用过期原料');
  });

  it('gives the same briefing as Markdown, tables intact', async () => {
    const r = await officer.get('/api/v1/briefing?day=2026-11-29&format=md');
    expect(r.headers['content-type']).toMatch(/^text\/markdown/);
    expect(r.headers['content-disposition']).toBe('attachment; filename="briefing-2026-11-29.md"');
    const md = r.body;
    expect(md).toMatch(/^# 食品安全舆情日报（2026-11-29）/);
    expect(md).toContain('新增预警 2 起（红色 1 起、橙色 1 起、黄色 0 起、蓝色 0 起）');
    const hostileRow = md.split('\n').find((l) => l.includes('HYPERLINK'))!;
    expect(hostileRow).toContain('\\|&lt;script&gt;');
    expect(hostileRow.split(/(?<!\\)\|/).length).toBe(9); // 7 cells between 8 unescaped pipes
  });

  it('covers a range and reports disposal progress', async () => {
    await officer.post('/api/v1/alerts/a-canteen/actions', { action: 'close', closeReason: '已处置' });
    const b = (await officer.get('/api/v1/briefing?day=2026-11-26&to=2026-11-29&format=json')).json();
    expect(b.title).toBe('食品安全舆情日报（2026-11-26 至 2026-11-29）');
    expect(b.alerts.total).toBe(5);
    expect(b.disposal).toMatchObject({ found: 5, closed: 2, open: 3, rate: 0.4 });
    expect(b.complaints.total).toBe(2);
  });

  it('narrows a county user to its region', async () => {
    const b = (await county.get('/api/v1/briefing?day=2026-11-29&format=json')).json();
    expect(b.scope).toBe('江西省南昌市东湖区');
    expect(b.major.map((a: Alert) => a.id).sort()).toEqual(['a-canteen', 'a-hostile']);
    expect(b.items.total).toBe(2);
  });

  it('rejects a bad day or a backwards range', async () => {
    expect((await officer.get('/api/v1/briefing?day=29-11-2026')).statusCode).toBe(400);
    expect((await officer.get('/api/v1/briefing?day=2026-11-29&to=2026-11-01')).statusCode).toBe(400);
  });
});

describe('the ledger', () => {
  it('counts found, disposed and open per region with the completion rate and open age', async () => {
    const l = (await officer.get('/api/v1/ledger?groupBy=region')).json();
    const donghu = l.rows.find((r: { key: string }) => r.key === '360102');
    expect(donghu).toMatchObject({ name: '江西省南昌市东湖区', found: 2, disposed: 0, open: 2, completionRate: 0 });
    expect(donghu.oldestOpenHours).toBeCloseTo(4.8, 1); // a-canteen first seen 01:10, now 06:00
    const shenzhen = l.rows.find((r: { key: string }) => r.key === '440305');
    expect(shenzhen).toMatchObject({ found: 1, disposed: 1, open: 0, completionRate: 1, oldestOpenHours: null, byReason: { 不属实: 1 } });
    expect(l.total).toMatchObject({ found: 5, disposed: 1, open: 4, completionRate: 0.2 });
    expect(l.open[0].level).toBe('红');
  });

  it('groups by category and narrows by time', async () => {
    const l = (await officer.get('/api/v1/ledger?groupBy=category&from=2026-11-29')).json();
    expect(l.rows.map((r: { key: string; found: number }) => [r.key, r.found])).toEqual([
      ['校园集中供餐', 1],
      ['餐饮服务', 1],
    ]);
  });

  it('exports CSV with a BOM, CRLF and formula cells escaped', async () => {
    const r = await officer.get('/api/v1/ledger.csv?sheet=open');
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    expect(r.headers['content-disposition']).toMatch(/attachment; filename="ledger-open-region\.csv"/);
    expect(r.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const text = r.body.replace(/^\ufeff/, '');
    expect(text.split('\r\n')[0]).toBe('预警编号,等级,标题,类别,区域代码,区域,状态,负责,首次发现,已持续（小时）');
    const row = text.split('\r\n').find((l) => l.startsWith('a-hostile'))!;
    expect(row).toContain(`"<img src=x onerror=alert(1)>=HYPERLINK(""http://evil"")|<script>alert(2)</script>"`);
  });

  it('county users get their own ledger only', async () => {
    const l = (await county.get('/api/v1/ledger')).json();
    expect(l.rows.map((r: { key: string }) => r.key)).toEqual(['360102']);
  });
});

describe('csv cells', () => {
  it.each([
    ['=SUM(A1)', "'=SUM(A1)"],
    ['+86 138', "'+86 138"],
    ['-1', "'-1"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['a,b', '"a,b"'],
    ['说 "好"', '"说 ""好"""'],
    ['普通文本', '普通文本'],
  ])('%j → %j', (input, out) => {
    expect(csvCell(input)).toBe(out);
  });

  it('joins rows with CRLF after a BOM', () => {
    expect(toCsv([['a', 1], ['b', null]])).toBe('\ufeffa,1\r\nb,\r\n');
  });

  it('markdown cells cannot break a table or inject HTML', () => {
    expect(mdCell('a|b\nc<b>')).toBe('a\\|b c&lt;b&gt;');
    expect(mdCell('# 标题')).toBe('\\# 标题');
  });
});

describe('GET /api/v1/handover', () => {
  it('lists arrivals, everything still open and the escalations of the shift', async () => {
    await officer.post('/api/v1/alerts/a-canteen/actions', { action: 'acknowledge' });
    const h = (await officer.get('/api/v1/handover?hours=8')).json();
    expect(h.from).toBe('2026-11-28T22:00:00.000Z');
    expect(h.arrived.map((a: Alert) => a.id)).toEqual(['a-canteen', 'a-hostile']);
    expect(h.open.map((a: Alert) => a.id)).toEqual(['a-canteen', 'a-hostile', 'a-takeout', 'a-rumour']);
    expect(h.escalated).toHaveLength(1);
    expect(h.escalated[0]).toMatchObject({ alert: { id: 'a-hostile' }, at: '2026-11-29T04:00:00.000Z', note: '红色预警 15 分钟未确认，已通知市局' });
    expect(h.actions[0]).toMatchObject({ alertId: 'a-canteen', actor: '张敏', action: 'acknowledge' });
  });

  it('leaves out escalations before the shift', async () => {
    const h = (await officer.get('/api/v1/handover?hours=1')).json();
    expect(h.escalated).toEqual([]);
  });
});
