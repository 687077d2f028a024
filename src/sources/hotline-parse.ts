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

/** Header cells → column names: a BOM left on the first cell or stray spaces must not hide a column. */
const columnNames = (header: string[]): string[] => header.map((h) => h.replace(/^\uFEFF/, '').trim());

/**
 * CSV → rows. Records read before a fatal syntax error (an unclosed quote) are kept, the error is
 * reported with its line, and the rest of the file is lost — a half-read export still yields its
 * good rows.
 *
 * The result is exactly what csv-parse gives with the options in `parseWithCsvParse`, including
 * each row's line. A well-formed file is read by a direct scan of the text (about ten times
 * faster: csv-parse re-encodes the text and copies every field byte by byte); anything the scan
 * does not handle the same way — a syntax error, a line ending that differs from the first one,
 * a lone surrogate — is handed to csv-parse whole, so its errors and oddities stay as they were.
 */
export function parseCsv(text: string): Promise<ParsedRows> {
  const fast = scanCsv(text);
  return fast ? Promise.resolve(fast) : parseWithCsvParse(text);
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

function count(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * The line a row is reported on: csv-parse's line count where the record ends (every CR and every
 * LF inside quotes counts, a record delimiter counts once) less the LFs in the record's values.
 * Kept as it always was, so error reports keep pointing at the same lines.
 */
function startLine(endLine: number, record: Record<string, string>): number {
  let line = endLine;
  for (const v of Object.values(record)) if (v.includes('\n')) line -= count(v, '\n');
  return line;
}

/**
 * csv-parse's reading of `text` (comma, double quote, `""` inside quotes, record delimiter fixed by
 * the first line break outside quotes, empty lines skipped, short and long records kept), or null
 * when the text holds anything but well-formed records.
 */
function scanCsv(text: string): ParsedRows | null {
  // csv-parse reads UTF-8 bytes: a lone surrogate would come back as U+FFFD.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) return null;
  const n = text.length;
  const rows: Row[] = [];
  let header: string[] | null = [];
  let columns: string[] = [];
  /** whether every value of a record within the header's width lands in the record under a name of its own */
  let distinct = false;
  /** the record delimiter: 0 not seen yet, else its length in chars (1 for LF or CR alone, 2 for CRLF) */
  let rdLength = 0;
  let rdChar = 0;
  /** csv-parse's line count: every CR and LF inside quotes, and each record delimiter once */
  let lines = 1;
  let record: Record<string, string> = {};
  /** fields read of the current record, and the LFs in its quoted ones */
  let fields = 0;
  let recordLf = 0;
  let pos = 0;
  for (;;) {
    let value: string;
    let quoted = false;
    let c = text.charCodeAt(pos);
    if (c === QUOTE) {
      quoted = true;
      value = '';
      let from = pos + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) return null; // unclosed quote: csv-parse reports it
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += text.slice(from, q);
        pos = q + 1;
        break;
      }
      const lf = count(value, '\n');
      recordLf += lf;
      lines += lf + count(value, '\r');
      c = text.charCodeAt(pos);
      // Only a delimiter, a line break or the end may follow a closing quote.
      if (c !== COMMA && c !== CR && c !== LF && pos < n) return null;
    } else {
      let i = pos;
      for (; i < n; i++) {
        c = text.charCodeAt(i);
        if (c === COMMA || c === CR || c === LF) break;
        if (c === QUOTE) return null; // a quote inside an unquoted field is a syntax error
      }
      value = text.slice(pos, i);
      pos = i;
    }
    const end = pos >= n;
    if (!end && c !== COMMA) {
      if (rdLength === 0) {
        rdChar = c;
        rdLength = c === CR && text.charCodeAt(pos + 1) === LF ? 2 : 1;
      }
      // Any other line break outside quotes is field content to csv-parse; leave that case to it.
      if (c !== rdChar || (rdLength === 2 && text.charCodeAt(pos + 1) !== LF)) return null;
    }
    // A line with nothing on it is skipped, at the end of the text as anywhere else.
    if (c === COMMA || quoted || fields > 0 || value.length > 0) {
      if (header) header.push(value);
      // Cells beyond the header have no column and are dropped; a repeated name keeps its last value.
      else if (fields < columns.length) record[columns[fields]!] = value;
      fields++;
      if (c !== COMMA) {
        if (header) {
          columns = columnNames(header);
          // ("__proto__" as a key sets nothing, so that column's value is not in the record either)
          distinct = new Set(columns).size === columns.length && !columns.includes('__proto__');
          header = null;
        } else {
          // Each row is reported on the line csv-parse's count gives where it ends, less the LFs in its values.
          const line = recordLf === 0 ? lines : distinct && fields <= columns.length ? lines - recordLf : startLine(lines, record);
          rows.push({ line, record });
          record = {};
        }
        fields = 0;
        recordLf = 0;
      }
    }
    if (end) return { rows, badLines: 0, errors: [] };
    if (c === COMMA) pos++;
    else {
      lines++;
      pos += rdLength;
    }
  }
}

function parseWithCsvParse(text: string): Promise<ParsedRows> {
  return new Promise((resolve) => {
    const rows: Row[] = [];
    const errors: RowError[] = [];
    const parser = parse({
      columns: columnNames,
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record: Record<string, string>, info: { lines: number }) => {
        // info.lines is where the record ends; quoted newlines inside it move the start back.
        rows.push({ line: startLine(info.lines, record), record });
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
