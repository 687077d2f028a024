import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HotlineSource, SEEN_FILE } from '../../src/sources/hotline.ts';
import { createSource } from '../../src/sources/registry.ts';
import { ctx, FIXTURES, NOW } from './helpers.ts';

const where = { file: 'test.yaml', path: 'sources[1]' };
const hotline = (p: string) => createSource({ id: 'hotline-12315', type: 'hotline', path: p }, where) as HotlineSource;

const GOOD = '登记编号,登记时间,诉求内容\nA1,2026-11-29 08:00:00,饭菜变质\nA2,2026-11-29 09:00:00,奶茶有异物\n';
const MIXED = '登记编号,登记时间,诉求内容\nB1,2026-11-29 08:00:00,超市卖过期面包\n,2026-11-29 09:00:00,没有编号\nB3,上午,时间不对\n';
const NONE_VALID = '登记编号,登记时间,诉求内容\n,2026-11-29 08:00:00,没有编号\nC2,不知道,时间不对\n';

function dropFolder(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sentinel-drop-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const report = (file: string) => JSON.parse(readFileSync(`${file}.report.json`, 'utf8'));

describe('hotline drop folder: a file is ingested once, then moved', () => {
  it('poll alone moves nothing; acknowledge moves a file with valid rows to done/ with a report beside it', async () => {
    const dir = dropFolder({ '2026-11-29.csv': GOOD });
    const src = hotline(dir);
    expect(await src.poll(ctx())).toHaveLength(2);
    expect(ls(dir)).toEqual(['2026-11-29.csv']);
    await src.acknowledge();
    expect(ls(dir)).toEqual([SEEN_FILE, 'done']);
    expect(ls(path.join(dir, 'done'))).toEqual(['2026-11-29.csv', '2026-11-29.csv.report.json']);
    expect(readFileSync(path.join(dir, 'done', '2026-11-29.csv'), 'utf8')).toBe(GOOD);
    expect(report(path.join(dir, 'done', '2026-11-29.csv'))).toEqual({
      file: '2026-11-29.csv',
      movedTo: path.join('done', '2026-11-29.csv'),
      rows: 2,
      ok: 2,
      errors: [],
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      outcome: 'done',
      at: NOW.toISOString(),
    });
    expect(await src.poll(ctx())).toEqual([]);
  });

  it('valid-rows policy: a file with some valid rows goes to done/ and its report lists the bad rows by line', async () => {
    const dir = dropFolder({ 'mixed.csv': MIXED });
    const src = hotline(dir);
    expect((await src.poll(ctx())).map((i) => i.fields['登记编号'])).toEqual(['B1']);
    await src.acknowledge();
    expect(report(path.join(dir, 'done', 'mixed.csv'))).toMatchObject({
      rows: 3,
      ok: 1,
      outcome: 'done',
      errors: [
        { line: 3, field: '登记编号', problem: 'missing 登记编号' },
        { line: 4, field: '登记时间', problem: 'not a time: "上午"' },
      ],
    });
  });

  it('valid-rows policy: a file with no valid row goes to failed/', async () => {
    const dir = dropFolder({ 'bad.csv': NONE_VALID });
    const src = hotline(dir);
    expect(await src.poll(ctx())).toEqual([]);
    await src.acknowledge();
    expect(ls(path.join(dir, 'failed'))).toEqual(['bad.csv', 'bad.csv.report.json']);
    expect(report(path.join(dir, 'failed', 'bad.csv'))).toMatchObject({ rows: 2, ok: 0, outcome: 'failed' });
  });

  it('valid-rows policy: a file that cannot be parsed at all goes to failed/ with the reason', async () => {
    const dir = dropFolder({ 'broken.xlsx': Buffer.from('this is not a workbook'), 'ok.jsonl': '{"登记编号":"J1","登记时间":"2026-11-29 08:00","诉求内容":"外卖有头发"}\n' });
    const src = hotline(dir);
    expect(await src.poll(ctx())).toHaveLength(1);
    await src.acknowledge();
    expect(ls(path.join(dir, 'failed'))).toEqual(['broken.xlsx', 'broken.xlsx.report.json']);
    expect(report(path.join(dir, 'failed', 'broken.xlsx')).errors).toEqual([
      { line: 0, field: '', problem: expect.stringMatching(/broken\.xlsx: not an XLSX file/) },
    ]);
    expect(ls(path.join(dir, 'done'))).toEqual(['ok.jsonl', 'ok.jsonl.report.json']);
  });

  it('an old binary .xls goes to failed/ with advice to save as .xlsx or CSV', async () => {
    const dir = dropFolder({ 'old.xls': Buffer.from([0xd0, 0xcf, 0x11, 0xe0]) });
    const src = hotline(dir);
    await src.poll(ctx());
    await src.acknowledge();
    expect(report(path.join(dir, 'failed', 'old.xls')).errors[0].problem).toMatch(/save the sheet as \.xlsx or CSV/);
  });

  it('without acknowledge (publish failed) the files stay and the next poll returns the same items again', async () => {
    const dir = dropFolder({ 'a.csv': GOOD });
    const src = hotline(dir);
    const first = await src.poll(ctx());
    const second = await src.poll(ctx());
    expect(second.map((i) => i.id)).toEqual(first.map((i) => i.id));
    expect(ls(dir)).toEqual(['a.csv']);
  });

  it('a re-sent identical export (same content hash, other name) is skipped and moved to done/ as a duplicate', async () => {
    const dir = dropFolder({ 'a.csv': GOOD });
    const src = hotline(dir);
    await src.poll(ctx());
    await src.acknowledge();
    writeFileSync(path.join(dir, 'a-resent.csv'), GOOD);
    expect(await src.poll(ctx())).toEqual([]);
    expect(src.lastReport()!.files).toEqual([{ file: path.join(dir, 'a-resent.csv'), rows: 0, ok: 0, errors: [] }]);
    await src.acknowledge();
    expect(report(path.join(dir, 'done', 'a-resent.csv'))).toMatchObject({ duplicateOf: 'a.csv', outcome: 'done', rows: 0 });
    const seen = JSON.parse(readFileSync(path.join(dir, SEEN_FILE), 'utf8'));
    expect(Object.values(seen.files)).toEqual([{ name: 'a.csv', at: NOW.toISOString(), outcome: 'done' }]);
  });

  it('two identical files in one drop are read once', async () => {
    const dir = dropFolder({ 'a.csv': GOOD, 'b.csv': GOOD });
    const src = hotline(dir);
    expect(await src.poll(ctx())).toHaveLength(2);
    await src.acknowledge();
    expect(report(path.join(dir, 'done', 'b.csv'))).toMatchObject({ duplicateOf: 'a.csv' });
  });

  it('a second file of the same name does not overwrite the first in done/', async () => {
    const dir = dropFolder({ 'daily.csv': GOOD });
    const src = hotline(dir);
    await src.poll(ctx());
    await src.acknowledge();
    writeFileSync(path.join(dir, 'daily.csv'), MIXED);
    await src.poll(ctx());
    await src.acknowledge();
    const done = ls(path.join(dir, 'done'));
    expect(done).toHaveLength(4);
    expect(done.filter((n) => n.endsWith('.csv')).map((n) => readFileSync(path.join(dir, 'done', n), 'utf8')).sort()).toEqual([GOOD, MIXED].sort());
  });

  it('a file overwritten between poll and acknowledge stays to be read again', async () => {
    const dir = dropFolder({ 'a.csv': GOOD });
    const src = hotline(dir);
    await src.poll(ctx());
    writeFileSync(path.join(dir, 'a.csv'), MIXED);
    await src.acknowledge();
    expect(ls(dir)).toContain('a.csv');
    expect((await src.poll(ctx())).map((i) => i.fields['登记编号'])).toEqual(['B1']);
  });

  it('acknowledge without a poll, or twice, does nothing', async () => {
    const dir = dropFolder({ 'a.csv': GOOD });
    const src = hotline(dir);
    await src.acknowledge();
    expect(ls(dir)).toEqual(['a.csv']);
    await src.poll(ctx());
    await src.acknowledge();
    await src.acknowledge();
    expect(ls(path.join(dir, 'done'))).toEqual(['a.csv', 'a.csv.report.json']);
  });

  it('a damaged .sentinel-seen.json does not stop ingestion', async () => {
    const dir = dropFolder({ [SEEN_FILE]: '{not json', 'a.csv': GOOD });
    const src = hotline(dir);
    expect(await src.poll(ctx())).toHaveLength(2);
    await src.acknowledge();
    expect(Object.keys(JSON.parse(readFileSync(path.join(dir, SEEN_FILE), 'utf8')).files)).toHaveLength(1);
  });

  it('a single file path (like the demo sample) is read on every poll and never moved', async () => {
    const dir = dropFolder({});
    copyFileSync(path.join(FIXTURES, 'hotline-gbk.csv'), path.join(dir, 'sample.csv'));
    const src = hotline(path.join(dir, 'sample.csv'));
    expect(await src.poll(ctx())).toHaveLength(2);
    await src.acknowledge();
    expect(await src.poll(ctx())).toHaveLength(2);
    await src.acknowledge();
    expect(ls(dir)).toEqual(['sample.csv']);
  });
});
