import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { itemId } from '../../src/core/ids.ts';
import { RawItem } from '../../src/core/types.ts';
import { HotlineSource } from '../../src/sources/hotline.ts';
import { parseXlsx, zipUncompressedSize } from '../../src/sources/hotline-xlsx.ts';
import { createSource } from '../../src/sources/registry.ts';
import { buildXlsx, hotlineWorkbook } from '../fixtures/sources/make-xlsx.ts';
import { ctx, FIXTURES } from './helpers.ts';

const where = { file: 'test.yaml', path: 'sources[1]' };
const hotline = (p: string, extra: Record<string, unknown> = {}) =>
  createSource({ id: 'hotline-12315', type: 'hotline', path: p, ...extra }, where) as HotlineSource;

async function xlsxFile(build: (ws: ExcelJS.Worksheet) => void): Promise<string> {
  const wb = new ExcelJS.Workbook();
  build(wb.addWorksheet('Sheet1'));
  const dir = mkdtempSync(path.join(tmpdir(), 'sentinel-xlsx-'));
  const file = path.join(dir, 'export.xlsx');
  writeFileSync(file, Buffer.from(await wb.xlsx.writeBuffer()));
  return file;
}

describe('hotline XLSX: merged header cells', () => {
  it('the committed hotline-merged.xlsx holds exactly the bytes make-xlsx.ts builds', async () => {
    const built = await buildXlsx(hotlineWorkbook());
    expect(readFileSync(path.join(FIXTURES, 'hotline-merged.xlsx')).equals(built)).toBe(true);
  });

  it('skips the merged title row, joins a merged parent header with its children, and reads Excel dates as China time', async () => {
    const src = hotline('hotline-merged.xlsx');
    const items = await src.poll(ctx());
    expect(items.map((i) => i.fields['登记编号'])).toEqual(['X202611290301', 'X202611290302', 'X202611290305']);
    expect(items[0]).toMatchObject({
      id: itemId('hotline-12315', 'X202611290301'),
      title: '投诉：某某火锅店', // 被投诉主体.名称 is a subject column, as in JSONL exports
      body: '火锅底料疑似回收油，食用后腹痛。',
      publishedAt: '2026-11-29T00:05:00.000Z', // an Excel date 2026-11-29 08:05
      regionHint: '城关区',
    });
    expect(items[0].fields).toMatchObject({
      '被投诉主体.名称': '某某火锅店',
      '被投诉主体.统一社会信用代码': '91620100MA00000031',
      '被投诉主体.地址': '城关区张掖路1号',
      投诉人: '周*',
    });
    expect(items[1].publishedAt).toBe('2026-11-29T01:40:00.000Z'); // a date typed as text
    expect(items[2].publishedAt).toBe('2026-11-29T03:30:15.000Z');
    expect(items[2].body).toBe('幼儿园午餐\n发现异物。');
    for (const item of items) expect(() => RawItem.parse(item)).not.toThrow();
  });

  it('reports bad rows by their Excel row number', async () => {
    const src = hotline('hotline-merged.xlsx');
    await src.poll(ctx());
    expect(src.lastReport()).toMatchObject({ rows: 5, ok: 3 });
    expect(src.lastReport()!.errors).toEqual([
      { file: path.join(FIXTURES, 'hotline-merged.xlsx'), line: 7, field: '登记编号', problem: 'missing 登记编号' },
      { file: path.join(FIXTURES, 'hotline-merged.xlsx'), line: 8, field: '登记时间', problem: 'not a time: "上周"' },
    ]);
  });

  it('takes the bare child name when only the child is a column the mapping knows', async () => {
    const file = await xlsxFile((ws) => {
      ws.getCell('A1').value = '受理信息';
      ws.mergeCells('A1:B1');
      ws.getCell('C1').value = '诉求内容';
      ws.mergeCells('C1:C2');
      ws.getCell('A2').value = '登记编号';
      ws.getCell('B2').value = '登记时间';
      ws.getRow(3).values = ['K-1', '2026-11-29 10:00', '凉皮变质'];
    });
    const [item] = await hotline(file).poll(ctx());
    expect(item).toMatchObject({ body: '凉皮变质', publishedAt: '2026-11-29T02:00:00.000Z', fields: { 登记编号: 'K-1' } });
  });

  it('finds a single header row below a merged title and a blank row, with a configured mapping', async () => {
    const file = await xlsxFile((ws) => {
      ws.getCell('A1').value = '12345热线转办工单';
      ws.mergeCells('A1:D1');
      ws.getRow(3).values = ['工单号', '受理\n日期', '事项描述', '区县'];
      ws.getRow(4).values = ['W-1', new Date(Date.UTC(2026, 10, 29, 14, 0)), '奶茶里有异物', '城关区'];
      ws.getRow(5).values = [];
      ws.getRow(6).values = ['W-2', '2026年11月29日 15:30', '烧烤店油烟扰民并使用过期食材', '七里河区'];
    });
    const src = hotline(file, { columns: { key: '工单号', publishedAt: '受理日期', body: '事项描述', regionHint: '区县' } });
    const items = await src.poll(ctx());
    expect(items.map((i) => [i.fields['工单号'], i.publishedAt, i.regionHint])).toEqual([
      ['W-1', '2026-11-29T06:00:00.000Z', '城关区'],
      ['W-2', '2026-11-29T07:30:00.000Z', '七里河区'],
    ]);
    expect(src.lastReport()!.errors).toEqual([]);
  });

  it('a sheet whose first rows name no mapped column fails with a clear reason', async () => {
    const file = await xlsxFile((ws) => {
      ws.getRow(1).values = ['甲', '乙'];
      ws.getRow(2).values = ['1', '2'];
    });
    await expect(hotline(file).poll(ctx())).rejects.toThrow(/export\.xlsx: no header row in the first 10 rows of "Sheet1" names a mapped column/);
  });
});

describe('hotline XLSX: hostile files', () => {
  it('reads the unpacked size from the ZIP directory', async () => {
    const bytes = readFileSync(path.join(FIXTURES, 'hotline-merged.xlsx'));
    expect(zipUncompressedSize(bytes)).toBeGreaterThan(bytes.length);
    expect(zipUncompressedSize(Buffer.from('not a zip'))).toBeNull();
  });

  it('refuses a workbook that would unpack beyond the limit before unpacking it (zip bomb)', async () => {
    const bytes = readFileSync(path.join(FIXTURES, 'hotline-merged.xlsx'));
    await expect(parseXlsx(bytes, new Set(['登记编号']), 1000)).rejects.toThrow(/unpacks to \d+ bytes, over the 1000-byte limit/);
  });
});
