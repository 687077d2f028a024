import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { buildDesk } from '../../src/desk/server.ts';
import type { Alert } from '../../src/core/types.ts';
import type { Accounts } from '../../src/auth/accounts.ts';
import { xlsxText } from '../../src/desk/ledger-xlsx.ts';
import { regionChildren, regionPath } from '../../src/desk/region-names.ts';
import { MemoryStore } from './memory-store.ts';
import { ALERTS, ITEMS, canteenAlert } from './fixtures.ts';
import { PASSWORDS, login, seedAccounts, type Client } from './auth-helpers.ts';

/* The ledger as an Excel workbook, and the region tree behind the desk's region filter. */
const NOW = new Date('2026-11-29T06:00:00.000Z');
const hostile: Alert = {
  ...canteenAlert,
  id: 'a-hostile',
  level: '橙',
  title: '=HYPERLINK("http://evil","点我")',
  category: '@餐饮服务',
  itemIds: [],
  assignee: '+86 138 0000 0000',
  firstSeenAt: '2026-11-29T03:00:00.000Z',
  lastSeenAt: '2026-11-29T03:00:00.000Z',
};

let store: MemoryStore;
let accounts: Accounts;
let app: FastifyInstance;
let officer: Client;
let county: Client;

beforeEach(async () => {
  store = new MemoryStore(() => NOW);
  await store.upsertItems(ITEMS);
  await store.upsertAlerts([...ALERTS, hostile]);
  accounts ??= await seedAccounts();
  app = buildDesk({ store, accounts, health: async () => ({ store: 'ok' }), now: () => NOW });
  officer = await login(() => app, '张敏', PASSWORDS.officer);
  county = await login(() => app, '东湖区局', PASSWORDS.county);
});
afterEach(async () => {
  await app.close();
});

async function workbook(c: Client, query = ''): Promise<ExcelJS.Workbook> {
  const r = await c.get(`/api/v1/ledger.xlsx${query}`);
  expect(r.statusCode, r.body.slice(0, 200)).toBe(200);
  expect(r.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(r.rawPayload as unknown as ArrayBuffer);
  return wb;
}

const rowValues = (ws: ExcelJS.Worksheet, n: number) => (ws.getRow(n).values as unknown[]).slice(1);

describe('GET /api/v1/ledger.xlsx', () => {
  it('is a workbook with the progress sheet and the risk list, Chinese headers, as an attachment', async () => {
    const r = await officer.get('/api/v1/ledger.xlsx?groupBy=category');
    expect(r.headers['content-disposition']).toBe('attachment; filename="ledger-category.xlsx"');
    const wb = await workbook(officer, '?groupBy=category');
    expect(wb.worksheets.map((w) => w.name)).toEqual(['处置进展', '风险清单']);
    const summary = wb.getWorksheet('处置进展')!;
    expect(rowValues(summary, 1)).toEqual(['类别', '名称', '发现', '已处置', '未处置', '处置完成率', '最长未处置（小时）', '平均未处置（小时）']);
    const total = rowValues(summary, summary.rowCount);
    expect(total.slice(1, 5)).toEqual(['合计', 5, 1, 4]);
    // the completion rate is a number formatted as a percentage, so Excel can sum and sort it
    expect(total[5]).toBeCloseTo(0.2);
    expect(summary.getRow(summary.rowCount).getCell(6).numFmt).toBe('0.0%');
    const open = wb.getWorksheet('风险清单')!;
    expect(rowValues(open, 1)).toEqual(['预警编号', '等级', '标题', '类别', '区域代码', '区域', '状态', '负责', '首次发现', '已持续（小时）']);
    expect(open.rowCount).toBe(1 + 4);
  });

  it('writes hostile text as inert strings, escaped like the CSV', async () => {
    const open = (await workbook(officer)).getWorksheet('风险清单')!;
    const row = [...Array(open.rowCount).keys()].map((i) => open.getRow(i + 1)).find((r) => r.getCell(1).value === 'a-hostile')!;
    expect(row.getCell(3).value).toBe(`'=HYPERLINK("http://evil","点我")`);
    expect(row.getCell(3).type).toBe(ExcelJS.ValueType.String);
    expect(row.getCell(4).value).toBe("'@餐饮服务");
    expect(row.getCell(8).value).toBe("'+86 138 0000 0000");
    expect(row.getCell(7).value).toBe('新');
    for (let c = 1; c <= 10; c++) expect(row.getCell(c).type).not.toBe(ExcelJS.ValueType.Formula);
  });

  it('gives a county user its own region only', async () => {
    const wb = await workbook(county);
    const ids = (ws: ExcelJS.Worksheet) => [...Array(ws.rowCount - 1).keys()].map((i) => ws.getRow(i + 2).getCell(1).value);
    expect(ids(wb.getWorksheet('风险清单')!).sort()).toEqual(['a-canteen', 'a-hostile']);
    expect(ids(wb.getWorksheet('处置进展')!)).toEqual(['360102', '']);
  });

  it('takes the same query as the CSV and names a bad one', async () => {
    const r = await officer.get('/api/v1/ledger.xlsx?from=yesterday');
    expect(r.statusCode).toBe(400);
    expect(r.json().issues[0].path).toBe('from');
  });
});

describe('xlsxText', () => {
  it.each([
    ['=SUM(A1)', "'=SUM(A1)"],
    ['-1', "'-1"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['南昌市东湖区', '南昌市东湖区'],
    ['a=b', 'a=b'],
  ])('%j → %j', (input, out) => {
    expect(xlsxText(input)).toBe(out);
  });
});

describe('the region tree', () => {
  it('goes province → city → county, with municipalities’ 市辖区 kept as the one city', () => {
    expect(regionChildren().length).toBe(31);
    expect(regionChildren().find((p) => p.code === '360000')).toEqual({ code: '360000', name: '江西省' });
    const cities = regionChildren('360000');
    expect(cities.map((c) => c.name)).toContain('赣州市');
    const ganzhou = cities.find((c) => c.name === '赣州市')!;
    expect(regionChildren(ganzhou.code).map((c) => c.name)).toContain('于都县');
    expect(regionChildren('360102')).toEqual([]);
    expect(regionChildren('110000')).toEqual([{ code: '110100', name: '北京市市辖区' }]);
  });

  it('makes the alert page’s breadcrumb, leaving out 市辖区', () => {
    expect(regionPath('360731').map((n) => n.name)).toEqual(['江西省', '赣州市', '于都县']);
    expect(regionPath('110101').map((n) => n.name)).toEqual(['北京市', '东城区']);
    expect(regionPath('360100').map((n) => n.name)).toEqual(['江西省', '南昌市']);
    expect(regionPath('999999')).toEqual([]);
    expect(regionPath('3601')).toEqual([]);
  });

  it('is served one level at a time to every role', async () => {
    const r = (await county.get('/api/v1/regions?parent=360100')).json();
    expect(r.path).toEqual([
      { code: '360000', name: '江西省' },
      { code: '360100', name: '南昌市' },
    ]);
    expect(r.items).toContainEqual({ code: '360102', name: '东湖区' });
    expect((await officer.get('/api/v1/regions')).json().items).toHaveLength(31);
    const bad = await officer.get('/api/v1/regions?parent=江西');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('parent');
  });
});
