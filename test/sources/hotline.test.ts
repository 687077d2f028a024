import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { itemId } from '../../src/core/ids.ts';
import { RawItem } from '../../src/core/types.ts';
import { SourceError } from '../../src/sources/errors.ts';
import { HotlineSource, maskValue } from '../../src/sources/hotline.ts';
import { createSource } from '../../src/sources/registry.ts';
import { ctx, FIXTURES, NOW } from './helpers.ts';

const where = { file: 'test.yaml', path: 'sources[1]' };
const hotline = (p: string, extra: Record<string, unknown> = {}) =>
  createSource({ id: 'hotline-12315', type: 'hotline', path: p, ...extra }, where) as HotlineSource;

function tmp(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sentinel-hotline-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('hotline source: CSV', () => {
  it('reads a UTF-8 CSV with BOM and quoted newlines into complaints', async () => {
    const src = hotline('hotline-bom.csv');
    const items = await src.poll(ctx());
    expect(items.map((i) => i.fields['登记编号'])).toEqual(['C202611290001', 'C202611290002', 'C202611290005']);
    expect(items[0]).toEqual({
      id: itemId('hotline-12315', 'C202611290001'),
      sourceId: 'hotline-12315',
      kind: 'complaint',
      title: '投诉：某某快餐店',
      body: '在该店购买的盒饭有异味，\n食用后腹泻。要求退款并赔偿。',
      publishedAt: '2026-11-29T00:15:00.000Z',
      fetchedAt: NOW.toISOString(),
      regionHint: '城关区',
      fields: {
        登记编号: 'C202611290001',
        登记时间: '2026-11-29 08:15:00',
        渠道: '12315平台',
        诉求类型: '投诉',
        投诉人: '张*',
        联系电话: '138****5678',
        被投诉主体: '某某快餐店',
        所属区域: '城关区',
        商品或服务分类: '餐饮服务',
        处理状态: '待受理',
      },
    });
    expect(items[1].body).toBe('货架上有过期面包，"生产日期"被涂改。');
    expect(items[2].publishedAt).toBe('2026-11-29T02:45:00.000Z');
    for (const item of items) expect(() => RawItem.parse(item)).not.toThrow();
  });

  it('reports rows without a key or with an unreadable time by line, and keeps the good rows', async () => {
    const src = hotline('hotline-bom.csv');
    expect(src.lastReport()).toBeNull();
    await src.poll(ctx());
    const report = src.lastReport()!;
    expect(report).toMatchObject({ at: NOW.toISOString(), rows: 5, ok: 3 });
    expect(report.files).toEqual([
      {
        file: path.join(FIXTURES, 'hotline-bom.csv'),
        rows: 5,
        ok: 3,
        errors: [
          // line 2-3 is the first record (quoted newline), so the keyless row is on line 5
          { line: 5, field: '登记编号', problem: 'missing 登记编号' },
          { line: 6, field: '登记时间', problem: 'not a time: "昨天上午"' },
        ],
      },
    ]);
    expect(report.errors[0]).toEqual({ file: path.join(FIXTURES, 'hotline-bom.csv'), line: 5, field: '登记编号', problem: 'missing 登记编号' });
  });

  it('detects and decodes a GBK CSV', async () => {
    const items = await hotline('hotline-gbk.csv').poll(ctx());
    expect(items.map((i) => [i.title, i.regionHint, i.publishedAt])).toEqual([
      ['投诉：某某烧烤店', '安宁区', '2026-11-28T06:20:00.000Z'],
      ['举报：某某食品厂', '榆中县', '2026-11-28T08:45:10.000Z'],
    ]);
    expect(items[0].body).toBe('烤串疑似使用病死猪肉，食用后身体不适。');
  });

  it('keeps the rows before a fatal CSV syntax error and reports the error', async () => {
    const dir = tmp({
      'broken.csv': '登记编号,登记时间,诉求内容\nA1,2026-11-29 08:00:00,第一条\nA2,2026-11-29 09:00:00,"引号没有闭合\n',
    });
    const src = hotline(dir);
    const items = await src.poll(ctx());
    expect(items.map((i) => i.fields['登记编号'])).toEqual(['A1']);
    expect(src.lastReport()!.errors).toEqual([
      expect.objectContaining({ file: path.join(dir, 'broken.csv'), problem: expect.stringMatching(/^CSV syntax: Quote Not Closed/) }),
    ]);
  });

  it('uses a configured column mapping (alternative header names)', async () => {
    const dir = tmp({
      'export.csv': '工单号,受理日期,事项描述,涉事单位,区县\nW-9,2026-11-29 14:00,奶茶里有异物,某某奶茶店,城关区\n',
    });
    const src = hotline(dir, {
      columns: { key: '工单号', publishedAt: ['受理时间', '受理日期'], body: '事项描述', subject: '涉事单位', regionHint: '区县' },
    });
    const [item] = await src.poll(ctx());
    expect(item).toMatchObject({
      id: itemId('hotline-12315', 'W-9'),
      title: '某某奶茶店',
      body: '奶茶里有异物',
      regionHint: '城关区',
      publishedAt: '2026-11-29T06:00:00.000Z',
    });
  });

  it('can be declared as a different kind', async () => {
    const [item] = await hotline('hotline-gbk.csv', { kind: 'notice' }).poll(ctx());
    expect(item.kind).toBe('notice');
  });
});

describe('hotline source: JSONL', () => {
  it('reads one object per line, flattens 被投诉主体 and reports the bad line', async () => {
    const src = hotline('hotline.jsonl');
    const items = await src.poll(ctx());
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      id: itemId('hotline-12315', 'J202611290101'),
      title: '投诉：某某外卖店',
      body: '外卖米饭里有头发，商家拒绝退款。',
      regionHint: '620102',
      publishedAt: '2026-11-29T03:20:00.000Z',
    });
    expect(items[0].fields).toMatchObject({
      '被投诉主体.名称': '某某外卖店',
      '被投诉主体.统一社会信用代码': '91620100MA00000001',
      投诉人: '孙*',
    });
    expect(items[1]).toMatchObject({
      id: itemId('hotline-12315', '4711'),
      title: '咨询：某某保健品店',
      publishedAt: '2026-11-29T04:00:00.000Z',
      fields: expect.objectContaining({ 标签: '保健食品、虚假宣传' }),
    });
    const report = src.lastReport()!;
    expect(report).toMatchObject({ rows: 3, ok: 2 });
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ line: 2, field: '', problem: expect.stringMatching(/^not valid JSON/) });
  });

  it('a line that is JSON but not an object is an error for that line', async () => {
    const dir = tmp({ 'a.jsonl': '["登记编号"]\n{"登记编号":"X1","登记时间":"2026-11-29 08:00:00","诉求内容":"内容"}\n' });
    const src = hotline(path.join(dir, 'a.jsonl'));
    expect(await src.poll(ctx())).toHaveLength(1);
    expect(src.lastReport()!.errors).toEqual([{ file: path.join(dir, 'a.jsonl'), line: 1, field: '', problem: 'expected a JSON object on this line' }]);
  });
});

describe('hotline source: folder of drop files', () => {
  it('reads every *.csv and *.jsonl in name order, ignores other files, and moves nothing', async () => {
    const dropDir = path.join(FIXTURES, 'drop');
    const before = readdirSync(dropDir).map((n) => [n, statSync(path.join(dropDir, n)).mtimeMs]);
    const src = hotline('drop');
    const items = await src.poll(ctx());
    expect(items.map((i) => i.fields['登记编号'])).toEqual(['G202611280001', 'G202611280002', 'D202611290201']);
    expect(src.lastReport()!.files.map((f) => path.basename(f.file))).toEqual(['2026-11-28.csv', '2026-11-29.jsonl']);
    expect(readdirSync(dropDir).map((n) => [n, statSync(path.join(dropDir, n)).mtimeMs])).toEqual(before);
  });

  it('an empty folder yields nothing', async () => {
    const src = hotline(tmp({}));
    expect(await src.poll(ctx())).toEqual([]);
    expect(src.lastReport()).toMatchObject({ files: [], rows: 0, ok: 0, errors: [] });
  });

  it('a missing path is a SourceError', async () => {
    await expect(hotline('no-such-folder').poll(ctx())).rejects.toThrow(SourceError);
    await expect(hotline('no-such-folder').poll(ctx())).rejects.toThrow(/no-such-folder: no such file or folder/);
  });

  it('a file named .xlsx that is not a workbook fails with the reason', async () => {
    const dir = tmp({ 'export.xlsx': Buffer.from('PK\u0003\u0004') });
    await expect(hotline(path.join(dir, 'export.xlsx')).poll(ctx())).rejects.toThrow(/export\.xlsx: not an XLSX file/);
  });
});

describe('hotline ids', () => {
  it('are stable across polls and distinct per record', async () => {
    const src = hotline('hotline-bom.csv');
    const a = await src.poll(ctx());
    const b = await src.poll(ctx({ now: () => new Date('2026-12-01T00:00:00Z') }));
    expect(b.map((i) => i.id)).toEqual(a.map((i) => i.id));
    expect(new Set(a.map((i) => i.id)).size).toBe(a.length);
  });

  it('follow the 登记编号, not the row position', async () => {
    const dir1 = tmp({ 'x.csv': '登记编号,登记时间,诉求内容\nK1,2026-11-29 08:00,甲\nK2,2026-11-29 09:00,乙\n' });
    const dir2 = tmp({ 'x.csv': '登记编号,登记时间,诉求内容\nK2,2026-11-29 09:00,乙\nK1,2026-11-29 08:00,甲\n' });
    const a = await hotline(dir1).poll(ctx());
    const b = await hotline(dir2).poll(ctx());
    expect(b.map((i) => i.id).sort()).toEqual(a.map((i) => i.id).sort());
    expect(b[0].id).toBe(a[1].id);
  });
});

describe('maskValue', () => {
  it.each([
    ['张三', '张*'],
    ['欧阳娜娜', '欧***'],
    ['13812345678', '138****5678'],
    ['620102199001011234', '620***********1234'],
  ])('%s → %s', (v, masked) => {
    expect(maskValue(v)).toBe(masked);
  });
});
