import { parse } from 'csv-parse';
import type { RowError } from './source.ts';

/** One record of a drop file with the line it starts on, so errors can point at it. */
export interface Row {
  line: number;
  record: Record<string, string>;
}

export interface ParsedRows {
  rows: Row[];
  /** data lines that could not be read as a record at all (a broken JSON line) */
  badLines: number;
  errors: RowError[];
}

/**
 * CSV → rows. Records read before a fatal syntax error (an unclosed quote) are kept, the error is
 * reported with its line, and the rest of the file is lost — a half-read export still yields its
 * good rows.
 */
export function parseCsv(text: string): Promise<ParsedRows> {
  return new Promise((resolve) => {
    const rows: Row[] = [];
    const errors: RowError[] = [];
    const parser = parse({
      columns: (header: string[]) => header.map((h) => h.replace(/^\uFEFF/, '').trim()),
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record: Record<string, string>, info: { lines: number }) => {
        // info.lines is where the record ends; quoted newlines inside it move the start back.
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

function flatten(prefix: string, v: unknown, out: Record<string, string>): void {
  if (v == null) return;
  if (Array.isArray(v)) {
    const scalars = v.every((x) => x == null || typeof x !== 'object');
    out[prefix] = scalars ? v.filter((x) => x != null).map(String).join('、') : JSON.stringify(v);
  } else if (typeof v === 'object') {
    // 被投诉主体 {名称, 统一社会信用代码, 地址} becomes 被投诉主体.名称 etc.
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else {
    out[prefix] = String(v);
  }
}

/** JSON Lines → rows: one object per line; a bad line is an error for that line only. */
export function parseJsonl(text: string): ParsedRows {
  const rows: Row[] = [];
  const errors: RowError[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (!s) return;
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (e) {
      errors.push({ line, field: '', problem: `not valid JSON: ${(e as Error).message}` });
      return;
    }
    if (value == null || typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ line, field: '', problem: 'expected a JSON object on this line' });
      return;
    }
    const record: Record<string, string> = {};
    flatten('', value, record);
    rows.push({ line, record });
  });
  return { rows, badLines: errors.length, errors };
}
