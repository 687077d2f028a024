import { parse } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import { parseCsv, type ParsedRows } from '../../src/sources/hotline-parse.ts';
import { mulberry32 } from '../helpers/rng.ts';

/**
 * The reading parseCsv must keep: csv-parse with the source's options, each row on the line
 * csv-parse says it ends on less the newlines in its values, a syntax error reported on its line
 * with the rows before it kept.
 */
function csvParseReading(text: string): Promise<ParsedRows> {
  return new Promise((resolve) => {
    const rows: ParsedRows['rows'] = [];
    const errors: ParsedRows['errors'] = [];
    const parser = parse({
      columns: (header: string[]) => header.map((h) => h.replace(/^\uFEFF/, '').trim()),
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record: Record<string, string>, info: { lines: number }) => {
        const inner = Object.values(record).reduce((n, v) => n + (String(v).match(/\n/g)?.length ?? 0), 0);
        rows.push({ line: info.lines - inner, record });
        return null;
      },
    });
    parser.on('error', (e: Error & { lines?: number }) => {
      errors.push({ line: e.lines ?? 0, field: '', problem: `CSV syntax: ${e.message}` });
      resolve({ rows, badLines: 0, errors });
    });
    parser.on('end', () => resolve({ rows, badLines: 0, errors }));
    parser.resume();
    parser.end(text);
  });
}

/** Deterministic generator, so a failure names a case that can be replayed. */
const rng = mulberry32;
const choose = <T,>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const quoteCell = (v: string) => `"${v.replace(/"/g, '""')}"`;

/** A well-formed export: header, records with quoted cells holding delimiters, quotes and line breaks. */
function wellFormed(r: () => number): string {
  const eol = choose(r, ['\r\n', '\n', '\r']);
  const width = 1 + Math.floor(r() * 5);
  const header = Array.from({ length: width }, (_, i) => choose(r, [`列${i}`, ` 列${i} `, '诉求内容', '登记编号', '列0', '__proto__']));
  if (r() < 0.3) header[0] = '\uFEFF' + header[0];
  const lines = [header.map((h) => (r() < 0.2 ? quoteCell(h) : h)).join(',')];
  const records = Math.floor(r() * 8);
  for (let k = 0; k < records; k++) {
    if (r() < 0.15) lines.push('');
    const cells = Math.max(1, width + choose(r, [0, 0, 0, -1, 1, 2]));
    const row = Array.from({ length: cells }, () => {
      const plain = choose(r, ['', 'a', '中文', ' 空格 ', '𠮷字', '2026-11-29 08:00']);
      if (r() < 0.6) return plain;
      const inner = Array.from({ length: 1 + Math.floor(r() * 4) }, () => choose(r, [plain, ',', '"', '\n', '\r\n', '\r', '，'])).join('');
      return quoteCell(inner);
    });
    lines.push(row.join(','));
  }
  return lines.join(eol) + (r() < 0.7 ? eol : '');
}

/** Anything at all from the characters that matter to a CSV reader. */
function anything(r: () => number): string {
  const tokens = ['a', '中', ',', ',', '"', '""', '\n', '\r', '\r\n', ' ', '\uFEFF', '𠮷', '\0', '\ud800'];
  const head = 'h1,h2\r\n';
  const n = Math.floor(r() * 30);
  return (r() < 0.5 ? head : '') + Array.from({ length: n }, () => choose(r, tokens)).join('');
}

describe('parseCsv', () => {
  it('reads a row as starting on the line after the quoted newlines of the rows before it', async () => {
    const text = '登记编号,诉求内容\r\nA1,"第一行\n第二行"\r\nA2,短\r\n\r\nA3,"x\r\ny"\r\n';
    const { rows, errors } = await parseCsv(text);
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.line, r.record['登记编号']])).toEqual([
      [2, 'A1'],
      [4, 'A2'],
      // A3 starts on line 6, but csv-parse counts the CR and the LF of a quoted CRLF as two lines
      // and only the LF is taken back: reports have always said 7, and keep saying it.
      [7, 'A3'],
    ]);
    expect(rows[0]!.record['诉求内容']).toBe('第一行\n第二行');
  });

  it('keeps short rows, drops cells beyond the header, and lets a repeated column keep its last value', async () => {
    const { rows } = await parseCsv('a,b,a\n1\n1,2,3,4\n');
    expect(rows).toEqual([
      { line: 2, record: { a: '1' } },
      { line: 3, record: { a: '3', b: '2' } },
    ]);
  });

  it('keeps the rows before an unclosed quote and reports the quote with its line', async () => {
    const { rows, errors } = await parseCsv('a,b\n1,2\n3,"4\n5,6\n');
    expect(rows).toEqual([{ line: 2, record: { a: '1', b: '2' } }]);
    expect(errors).toEqual([{ line: 4, field: '', problem: expect.stringMatching(/^CSV syntax: Quote Not Closed/) }]);
  });

  it('reads every well-formed export exactly as csv-parse does, lines included', async () => {
    const r = rng(20261129);
    for (let i = 0; i < 1500; i++) {
      const text = wellFormed(r);
      expect(await parseCsv(text), JSON.stringify(text)).toEqual(await csvParseReading(text));
    }
  });

  it('reads any text, broken or not, exactly as csv-parse does, errors included', async () => {
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const text = anything(r);
      expect(await parseCsv(text), JSON.stringify(text)).toEqual(await csvParseReading(text));
    }
  });
});
