import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { itemId } from '../core/ids.ts';
import type { ItemKind, RawItem } from '../core/types.ts';
import iconv from 'iconv-lite';
import { decodeBytes, isUtf8 } from './encoding.ts';
import { SourceError } from './errors.ts';
import { parseCsv, parseJsonl, type ParsedRows, type Row } from './hotline-parse.ts';
import { parseXlsx, XlsxError } from './hotline-xlsx.ts';
import { readLocalFile } from './files.ts';
import {
  commonFields,
  type FileReport,
  type PollReport,
  type RowError,
  type Source,
  type SourceContext,
  type SourceType,
} from './source.ts';
import { parseChinaTime } from './time.ts';

/** A column, or alternatives tried in order (exports from different systems name the same column differently). */
const Column = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
type Column = z.infer<typeof Column>;

/**
 * Default mapping for a 12315-style export. Title: `${诉求类型}：${被投诉主体}` (e.g. "投诉：某某餐饮店")
 * unless a 标题 column exists. Every column except the body is also kept in `fields`; personal data
 * columns (see DEFAULT_MASK) are masked there.
 */
export const DEFAULT_COLUMNS = {
  key: ['登记编号', '投诉编号', '工单编号'],
  publishedAt: ['登记时间', '投诉时间', '受理时间'],
  body: ['诉求内容', '投诉内容', '反映内容'],
  title: ['标题'],
  subject: ['被投诉主体', '被投诉主体.名称', '被投诉主体名称', '被投诉单位'],
  requestType: ['诉求类型'],
  regionHint: ['所属区域', '涉及区域'],
} satisfies Record<string, Column>;
export type ColumnRole = keyof typeof DEFAULT_COLUMNS;

/** Columns carrying a complainant's personal data: masked in `fields` (the SAMR rules oblige us to protect them). */
export const DEFAULT_MASK = ['投诉人', '投诉人姓名', '联系人', '联系电话', '投诉人电话', '联系方式', '身份证号', '证件号码'];

export const HotlineConfig = z.strictObject({
  type: z.literal('hotline'),
  ...commonFields('complaint'),
  /**
   * a .csv/.jsonl/.xlsx file (read on every poll, never moved), or a drop folder whose files are
   * read once each in name order, then moved to done/ or failed/ on acknowledge()
   */
  path: z.string().min(1, 'expected a file or folder path'),
  columns: z
    .strictObject({
      key: Column.optional(),
      publishedAt: Column.optional(),
      body: Column.optional(),
      title: Column.optional(),
      subject: Column.optional(),
      requestType: Column.optional(),
      regionHint: Column.optional(),
    })
    .default({}),
  mask: z.array(z.string().min(1)).default(DEFAULT_MASK),
  /** cap per file, bytes */
  maxBytes: z.number().int().positive().default(50 * 1024 * 1024),
});
export type HotlineConfig = z.infer<typeof HotlineConfig>;

const alternatives = (c: Column): string[] => (Array.isArray(c) ? c : [c]);

/** '13812345678' → '138****5678', '张三' → '张*': enough left to tell records apart, not enough to identify anyone. */
export function maskValue(v: string): string {
  const s = [...v.trim()];
  if (s.length === 0) return '';
  if (s.length >= 7) return s.slice(0, 3).join('') + '*'.repeat(s.length - 7) + s.slice(-4).join('');
  return s[0] + '*'.repeat(s.length - 1);
}

type Mapping = Record<ColumnRole, string[]>;

/**
 * Decodes a hotline export. Exports concatenated from two systems can be GBK up to some row and
 * UTF-8 after it; decoded whole as one encoding, half the complaints would be stored as mojibake
 * that no rule can read. When the file as a whole is not UTF-8 but some of its lines are, each
 * line is decoded on its own (UTF-8 where it is valid UTF-8, else as the file's encoding).
 */
export function decodeHotlineBytes(bytes: Buffer): string {
  const whole = decodeBytes(bytes);
  if (isUtf8(bytes)) return whole.text;
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) (lines.push(bytes.subarray(start, i + 1)), (start = i + 1));
  if (start < bytes.length) lines.push(bytes.subarray(start));
  const nonAscii = lines.filter((l) => l.some((b) => b > 0x7f));
  const utf8Lines = nonAscii.filter(isUtf8).length;
  if (utf8Lines === 0 || utf8Lines === nonAscii.length) return whole.text;
  const other = /utf-?8/i.test(whole.encoding) ? 'gb18030' : whole.encoding;
  return lines.map((l) => (isUtf8(l) ? l.toString('utf8') : iconv.decode(l, other))).join('').replace(/^\uFEFF/, '');
}

/** The column mapping of a 12315-style export with optional overrides (also used by the push API). */
export function columnMapping(overrides: Partial<Record<ColumnRole, Column>> = {}): Mapping {
  const m = { ...DEFAULT_COLUMNS, ...overrides } as Record<ColumnRole, Column>;
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, alternatives(v)])) as Mapping;
}

function pick(record: Record<string, string>, names: string[]): { name: string; value: string } | null {
  for (const name of names) {
    const v = record[name]?.trim();
    if (v) return { name, value: v };
  }
  return null;
}

export interface RowContext {
  sourceId: string;
  kind: ItemKind;
  fetchedAt: string;
  mapping: Mapping;
  mask: Set<string>;
}

/** One record → RawItem, or the reasons it is not one. */
export function rowToItem(row: Row, c: RowContext): RawItem | RowError[] {
  const { record, line } = row;
  const errors: RowError[] = [];
  const key = pick(record, c.mapping.key);
  if (!key) errors.push({ line, field: c.mapping.key[0], problem: `missing ${c.mapping.key[0]}` });
  const time = pick(record, c.mapping.publishedAt);
  const publishedAt = time ? parseChinaTime(time.value) : null;
  if (!time) errors.push({ line, field: c.mapping.publishedAt[0], problem: `missing ${c.mapping.publishedAt[0]}` });
  else if (!publishedAt) errors.push({ line, field: time.name, problem: `not a time: "${time.value}"` });
  if (errors.length || !key || !publishedAt) return errors;

  const body = pick(record, c.mapping.body);
  const subject = pick(record, c.mapping.subject)?.value;
  const requestType = pick(record, c.mapping.requestType)?.value;
  const title =
    pick(record, c.mapping.title)?.value ??
    ([requestType, subject].filter(Boolean).join('：') || [...(body?.value ?? key.value)].slice(0, 30).join(''));
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) {
    const v = value?.trim();
    if (!v || name === body?.name) continue;
    fields[name] = c.mask.has(name) ? maskValue(v) : v;
  }
  const region = pick(record, c.mapping.regionHint)?.value;
  return {
    id: itemId(c.sourceId, key.value),
    sourceId: c.sourceId,
    kind: c.kind,
    title,
    body: body?.value ?? '',
    publishedAt,
    fetchedAt: c.fetchedAt,
    ...(region ? { regionHint: region } : {}),
    fields,
  };
}

const DROP_EXT = /\.(csv|jsonl|ndjson|xlsx|xls)$/i;
/** Unpacked size allowed for one XLSX: a 50 MB sheet is already far more than a day's complaints. */
const MAX_XLSX_UNZIPPED = 200 * 1024 * 1024;
export const SEEN_FILE = '.sentinel-seen.json';
/** Hashes remembered per folder; older ones are forgotten first. */
const MAX_SEEN = 10_000;

export type DropOutcome = 'done' | 'failed';

/** What `<name>.report.json` beside a moved drop file says. */
export interface DropReport extends FileReport {
  sha256: string;
  outcome: DropOutcome;
  /** when the file was read (poll time) */
  at: string;
  /** the file already ingested with the same content, when this one is a re-drop */
  duplicateOf?: string;
}

interface SeenEntry {
  name: string;
  at: string;
  outcome: DropOutcome;
}
type Seen = Record<string, SeenEntry>;

interface Pending {
  folder: string;
  report: DropReport;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readSeen(folder: string): Promise<Seen> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(folder, SEEN_FILE), 'utf8'));
    const files = (parsed as { files?: unknown }).files;
    return files && typeof files === 'object' ? (files as Seen) : {};
  } catch {
    // Missing or damaged: files still in the folder are unprocessed anyway (processed ones were moved).
    return {};
  }
}

async function writeSeen(folder: string, seen: Seen): Promise<void> {
  const entries = Object.entries(seen).sort((a, b) => a[1].at.localeCompare(b[1].at));
  const kept = Object.fromEntries(entries.slice(-MAX_SEEN));
  const file = path.join(folder, SEEN_FILE);
  // Write-then-rename: a crash mid-write leaves the old list, not half a JSON document.
  await writeFile(`${file}.tmp`, JSON.stringify({ version: 1, files: kept }, null, 1));
  await rename(`${file}.tmp`, file);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** done/2026-11-28.csv, or done/2026-11-28.<hash>.csv when a file of that name is already there. */
async function freeName(dir: string, name: string, hash: string): Promise<string> {
  const ext = path.extname(name);
  const base = name.slice(0, name.length - ext.length);
  for (let n = 0; ; n++) {
    const candidate = path.join(dir, n === 0 ? name : `${base}.${hash.slice(0, 8)}${n > 1 ? `-${n}` : ''}${ext}`);
    if (!(await exists(candidate)) && !(await exists(`${candidate}.report.json`))) return candidate;
  }
}

/**
 * Reads hotline exports (CSV in UTF-8, UTF-8 with BOM or GBK; JSONL; XLSX).
 *
 * Valid-rows policy: a row becomes an item when it has a key (登记编号) and a readable time; every
 * other row is reported with its line (Excel row number for XLSX) and skipped, and the file's good
 * rows are still ingested. A drop file with at least one valid row goes to done/ (its report lists
 * the bad rows for the sender to fix and re-send); a file with no valid row, or one that cannot be
 * read at all, goes to failed/. A CSV cut off by a syntax error keeps the rows before the error.
 *
 * Drop folders: poll() reads each file not seen before (by SHA-256 of its bytes) and remembers it;
 * acknowledge() — called by the runner after the items are durably on the bus — moves it to done/
 * or failed/ with `<name>.report.json` beside it and records its hash in `.sentinel-seen.json`, so a
 * re-sent identical export is skipped (and moved to done/ with `duplicateOf`). Until acknowledge()
 * the files stay where they are and the next poll reads them again: nothing is lost if publishing
 * fails. A single file `path` is read on every poll and never moved.
 */
export class HotlineSource implements Source {
  readonly type = 'hotline';
  readonly id: string;
  readonly kind: ItemKind;
  readonly everyMs: number;
  readonly weight: number;
  readonly region?: string;
  private readonly mapping: Mapping;
  private readonly known: Set<string>;
  private report: PollReport | null = null;
  private pending: Pending[] = [];

  constructor(readonly config: HotlineConfig) {
    this.id = config.id;
    this.kind = config.kind;
    this.everyMs = config.every;
    this.weight = config.weight;
    this.region = config.region;
    this.mapping = columnMapping(config.columns);
    this.known = new Set([...Object.values(this.mapping).flat(), ...config.mask]);
  }

  lastReport(): PollReport | null {
    return this.report;
  }

  /** The files this poll reads: the file itself, or a folder's drop files in name order. */
  async files(ctx: SourceContext): Promise<{ files: string[]; folder: boolean; root: string }> {
    const root = path.resolve(ctx.baseDir, this.config.path);
    let st;
    try {
      st = await stat(root);
    } catch (e) {
      throw new SourceError(root, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message, {
        cause: e,
      });
    }
    if (!st.isDirectory()) return { files: [root], folder: false, root };
    const names = (await readdir(root, { withFileTypes: true }))
      .filter((d) => d.isFile() && DROP_EXT.test(d.name) && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
    return { files: names.map((n) => path.join(root, n)), folder: true, root };
  }

  private async parse(file: string, bytes: Buffer): Promise<ParsedRows> {
    if (/\.xls$/i.test(file)) {
      throw new SourceError(file, 'the old binary .xls format is not read; save the sheet as .xlsx or CSV');
    }
    if (/\.xlsx$/i.test(file)) {
      try {
        return await parseXlsx(bytes, this.known, MAX_XLSX_UNZIPPED);
      } catch (e) {
        if (e instanceof XlsxError) throw new SourceError(file, e.message, { cause: e });
        throw e;
      }
    }
    const text = decodeHotlineBytes(bytes);
    const jsonl = /\.(jsonl|ndjson)$/i.test(file) || (!/\.csv$/i.test(file) && text.trimStart().startsWith('{'));
    return jsonl ? parseJsonl(text) : parseCsv(text);
  }

  private rowsToItems(file: string, parsed: ParsedRows, rc: RowContext, items: RawItem[]): FileReport {
    const errors = [...parsed.errors];
    let ok = 0;
    for (const row of parsed.rows) {
      const r = rowToItem(row, rc);
      if (Array.isArray(r)) errors.push(...r);
      else {
        items.push(r);
        ok++;
      }
    }
    if (parsed.rows.length + parsed.badLines === 0 && !errors.length) {
      // An export with no records is almost always a failed export: say so, never a silent zero.
      errors.push({ line: 1, field: '(file)', problem: 'no data rows: the file is empty or holds only a header' });
    }
    errors.sort((a, b) => a.line - b.line);
    return { file, rows: parsed.rows.length + parsed.badLines, ok, errors };
  }

  async poll(ctx: SourceContext): Promise<RawItem[]> {
    const fetchedAt = ctx.now().toISOString();
    // A poll that fails must not leave the previous poll's files to be moved by a stray acknowledge().
    this.pending = [];
    const rc: RowContext = { sourceId: this.id, kind: this.kind, fetchedAt, mapping: this.mapping, mask: new Set(this.config.mask) };
    const { files, folder, root } = await this.files(ctx);
    const items: RawItem[] = [];
    const reports: FileReport[] = [];
    const pending: Pending[] = [];
    const seen = folder ? await readSeen(root) : {};
    const hashesThisPoll = new Map<string, string>();
    for (const file of files) {
      ctx.signal.throwIfAborted();
      if (!folder) {
        // A single named file is the whole source: any failure to read it fails the poll.
        const bytes = await readLocalFile(file, this.config.maxBytes);
        reports.push(this.rowsToItems(file, await this.parse(file, bytes), rc, items));
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readLocalFile(file, this.config.maxBytes);
      } catch (e) {
        // Unreadable now (too big, vanished mid-poll): reported, left in place, tried again next poll.
        reports.push({ file, rows: 0, ok: 0, errors: [{ line: 0, field: '', problem: (e as Error).message }] });
        continue;
      }
      const hash = sha256(bytes);
      const earlier = seen[hash]?.name ?? hashesThisPoll.get(hash);
      if (earlier) {
        const report: FileReport = { file, rows: 0, ok: 0, errors: [] };
        reports.push(report);
        const outcome = seen[hash]?.outcome ?? 'done';
        pending.push({ folder: root, report: { ...report, sha256: hash, outcome, at: fetchedAt, duplicateOf: earlier } });
        continue;
      }
      hashesThisPoll.set(hash, path.basename(file));
      let report: FileReport;
      try {
        report = this.rowsToItems(file, await this.parse(file, bytes), rc, items);
      } catch (e) {
        report = { file, rows: 0, ok: 0, errors: [{ line: 0, field: '', problem: (e as Error).message }] };
      }
      reports.push(report);
      pending.push({ folder: root, report: { ...report, sha256: hash, outcome: report.ok > 0 ? 'done' : 'failed', at: fetchedAt } });
    }
    this.pending = pending;
    this.report = {
      type: 'rows',
      at: fetchedAt,
      files: reports,
      rows: reports.reduce((n, r) => n + r.rows, 0),
      ok: reports.reduce((n, r) => n + r.ok, 0),
      errors: reports.flatMap((r) => r.errors.map((e) => ({ file: r.file, ...e }))),
    };
    return items;
  }

  /**
   * Moves the drop files of the last poll to done/ or failed/ with their reports. A file whose
   * bytes changed since the poll (the sender overwrote it) stays, to be read again.
   */
  async acknowledge(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0) return;
    const folder = pending[0].folder;
    const seen = await readSeen(folder);
    try {
      for (const { report } of pending) {
        let bytes: Buffer;
        try {
          bytes = await readFile(report.file);
        } catch {
          continue; // moved or deleted by someone else meanwhile
        }
        if (sha256(bytes) !== report.sha256) continue;
        const dir = path.join(folder, report.outcome);
        await mkdir(dir, { recursive: true });
        const target = await freeName(dir, path.basename(report.file), report.sha256);
        await rename(report.file, target);
        const { file, ...rest } = report;
        await writeFile(`${target}.report.json`, JSON.stringify({ file: path.basename(file), movedTo: path.relative(folder, target), ...rest }, null, 1));
        seen[report.sha256] ??= { name: path.basename(file), at: report.at, outcome: report.outcome };
      }
    } finally {
      await writeSeen(folder, seen);
    }
  }
}

export const hotlineType: SourceType<HotlineConfig> = {
  type: 'hotline',
  schema: HotlineConfig,
  create: (config) => new HotlineSource(config),
};
