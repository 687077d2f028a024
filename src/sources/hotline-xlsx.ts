// Types only: exceljs (about 28 MB once loaded) is imported when a workbook first arrives, so a
// deployment that never receives one never pays for it.
import type ExcelJS from 'exceljs';
import type { ParsedRows, Row } from './hotline-parse.ts';

/** How far down a sheet the header row is looked for (exports put a title and a date range above it). */
export const HEADER_SEARCH_ROWS = 10;

export class XlsxError extends Error {}

type Cell = ExcelJS.Cell;

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * exceljs returns date cells as the sheet's wall-clock time expressed in UTC (Excel has no zones);
 * written back as "YYYY-MM-DD HH:mm:ss" it is read as China time like any CSV value.
 */
function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return time === '00:00:00' ? date : `${date} ${time}`;
}

function valueText(v: ExcelJS.CellValue | undefined): string {
  if (v == null) return '';
  if (v instanceof Date) return dateText(v);
  if (typeof v !== 'object') return String(v);
  if ('richText' in v) return v.richText.map((r) => r.text).join('');
  if ('result' in v) return valueText(v.result as ExcelJS.CellValue);
  if ('formula' in v || 'sharedFormula' in v) return '';
  if ('text' in v) return valueText(v.text as ExcelJS.CellValue);
  if ('error' in v) return '';
  return '';
}

/** Header text: line breaks typed with Alt+Enter inside a Chinese header ("登记\n时间") vanish. */
function headerText(cell: Cell): string {
  return valueText(cell.value)
    .replace(/(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

const masterOf = (cell: Cell): string => (cell.isMerged ? cell.master.address : cell.address);

interface Header {
  /** row number of the last header row */
  last: number;
  names: string[];
  score: number;
}

function scoreOf(names: string[], known: Set<string>): number {
  return new Set(names.filter((n) => known.has(n))).size;
}

/** Columns a merged cell in `row` spans, by master address. */
function spans(ws: ExcelJS.Worksheet, row: number, cols: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let c = 1; c <= cols; c++) {
    const cell = ws.getCell(row, c);
    if (cell.isMerged) m.set(masterOf(cell), (m.get(masterOf(cell)) ?? 0) + 1);
  }
  return m;
}

/**
 * A two-row header: a merged parent cell (被投诉主体) over its children (名称, 统一社会信用代码,
 * 地址); the other columns are merged down both rows or empty in the second. A child is named
 * "parent.child" — as JSONL exports flatten nested objects — unless only the bare child is a name
 * the mapping knows. Null when the rows do not look like that (the second row is data).
 */
function twoRowHeader(ws: ExcelJS.Worksheet, r: number, cols: number, known: Set<string>): string[] | null {
  const parentSpans = [...spans(ws, r, cols).values()];
  // A title merged across the whole width is not a parent of anything.
  if (!parentSpans.some((n) => n >= 2 && n < cols)) return null;
  const names: string[] = [];
  for (let c = 1; c <= cols; c++) {
    const p = ws.getCell(r, c);
    const k = ws.getCell(r + 1, c);
    const parent = headerText(p);
    const child = headerText(k);
    if (masterOf(p) === masterOf(k) || !child) names.push(parent);
    else if (!parent) names.push(child);
    else if (p.isMerged) {
      const joined = `${parent}.${child}`;
      names.push(known.has(joined) || !known.has(child) ? joined : child);
    } else return null;
  }
  return names;
}

function findHeader(ws: ExcelJS.Worksheet, cols: number, known: Set<string>): Header | null {
  let best: Header | null = null;
  const last = Math.min(ws.rowCount, HEADER_SEARCH_ROWS);
  for (let r = 1; r <= last; r++) {
    const single: string[] = [];
    for (let c = 1; c <= cols; c++) single.push(headerText(ws.getCell(r, c)));
    // When the row below fits under this one as children, that structure is the header: the
    // single-row reading would take the children for data.
    const double = r < ws.rowCount ? twoRowHeader(ws, r, cols, known) : null;
    const h: Header = double ? { last: r + 1, names: double, score: scoreOf(double, known) } : { last: r, names: single, score: scoreOf(single, known) };
    if (h.score > 0 && (!best || h.score > best.score)) best = h;
  }
  return best;
}

/**
 * Reads a 4-byte little-endian total of the uncompressed sizes in a ZIP's central directory, so a
 * small XLSX that inflates to gigabytes (a zip bomb) is refused before exceljs unpacks it.
 */
export function zipUncompressedSize(buf: Buffer): number | null {
  const from = Math.max(0, buf.length - 65_557);
  let eocd = -1;
  for (let i = buf.length - 22; i >= from; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const entries = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) return null;
    const size = buf.readUInt32LE(at + 24);
    if (size === 0xffffffff) return Number.POSITIVE_INFINITY; // ZIP64: far beyond any export we take
    total += size;
    at += 46 + buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  return total;
}

/**
 * First worksheet → rows keyed by header name, each with its Excel row number as `line`. The
 * header is the row (or merged two-row block) among the first rows that names most columns of
 * `known` (the mapping's names), so title rows and notes above it are skipped.
 */
export async function parseXlsx(bytes: Buffer, known: Set<string>, maxUnzipped: number): Promise<ParsedRows> {
  const unzipped = zipUncompressedSize(bytes);
  if (unzipped == null) throw new XlsxError('not an XLSX file (no ZIP directory; an old .xls must be saved as .xlsx or CSV)');
  if (unzipped > maxUnzipped) {
    throw new XlsxError(`unpacks to ${unzipped} bytes, over the ${maxUnzipped}-byte limit`);
  }
  const { default: Excel } = await import('exceljs');
  const wb = new Excel.Workbook();
  try {
    // exceljs's own Buffer type predates Node 20's generic Buffer.
    await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  } catch (e) {
    throw new XlsxError(`not a readable XLSX workbook: ${(e as Error).message}`);
  }
  const ws = wb.worksheets[0];
  if (!ws || ws.rowCount === 0) throw new XlsxError('the first worksheet is empty');
  const cols = ws.columnCount;
  const header = findHeader(ws, cols, known);
  if (!header) {
    const some = [...known].slice(0, 3).join(', ');
    throw new XlsxError(`no header row in the first ${HEADER_SEARCH_ROWS} rows of "${ws.name}" names a mapped column (${some} …)`);
  }
  const rows: Row[] = [];
  for (let r = header.last + 1; r <= ws.rowCount; r++) {
    const record: Record<string, string> = {};
    let any = false;
    for (let c = 1; c <= cols; c++) {
      const name = header.names[c - 1];
      if (!name || name in record) continue;
      const v = valueText(ws.getCell(r, c).value).trim();
      record[name] = v;
      if (v) any = true;
    }
    if (any) rows.push({ line: r, record });
  }
  return { rows, badLines: 0, errors: [] };
}
