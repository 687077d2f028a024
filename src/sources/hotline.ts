import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { itemId } from '../core/ids.ts';
import type { ItemKind, RawItem } from '../core/types.ts';
import { decodeBytes } from './encoding.ts';
import { SourceError } from './errors.ts';
import { parseCsv, parseJsonl, type ParsedRows, type Row } from './hotline-parse.ts';
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
  /** a .csv/.jsonl file, or a folder whose *.csv and *.jsonl files are read in name order */
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

const DROP_EXT = /\.(csv|jsonl|ndjson)$/i;

export class HotlineSource implements Source {
  readonly type = 'hotline';
  readonly id: string;
  readonly kind: ItemKind;
  readonly everyMs: number;
  readonly weight: number;
  private readonly mapping: Mapping;
  private report: PollReport | null = null;

  constructor(readonly config: HotlineConfig) {
    this.id = config.id;
    this.kind = config.kind;
    this.everyMs = config.every;
    this.weight = config.weight;
    const m = { ...DEFAULT_COLUMNS, ...config.columns } as Record<ColumnRole, Column>;
    this.mapping = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, alternatives(v)])) as Mapping;
  }

  lastReport(): PollReport | null {
    return this.report;
  }

  /** The files this poll reads: the file itself, or a folder's drop files in name order. */
  async files(ctx: SourceContext): Promise<{ files: string[]; folder: boolean }> {
    const root = path.resolve(ctx.baseDir, this.config.path);
    let st;
    try {
      st = await stat(root);
    } catch (e) {
      throw new SourceError(root, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message, {
        cause: e,
      });
    }
    if (!st.isDirectory()) {
      if (/\.xlsx?$/i.test(root)) throw new SourceError(root, 'XLSX is not supported yet; export the sheet as CSV (UTF-8 or GBK)');
      return { files: [root], folder: false };
    }
    const names = (await readdir(root, { withFileTypes: true }))
      .filter((d) => d.isFile() && DROP_EXT.test(d.name) && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
    return { files: names.map((n) => path.join(root, n)), folder: true };
  }

  private async readFile(file: string): Promise<ParsedRows> {
    const bytes = await readLocalFile(file, this.config.maxBytes);
    const { text } = decodeBytes(bytes);
    const jsonl = /\.(jsonl|ndjson)$/i.test(file) || (!/\.csv$/i.test(file) && text.trimStart().startsWith('{'));
    return jsonl ? parseJsonl(text) : parseCsv(text);
  }

  async poll(ctx: SourceContext): Promise<RawItem[]> {
    const fetchedAt = ctx.now().toISOString();
    const rc: RowContext = { sourceId: this.id, kind: this.kind, fetchedAt, mapping: this.mapping, mask: new Set(this.config.mask) };
    const { files, folder } = await this.files(ctx);
    const items: RawItem[] = [];
    const reports: FileReport[] = [];
    for (const file of files) {
      ctx.signal.throwIfAborted();
      let parsed: ParsedRows;
      try {
        parsed = await this.readFile(file);
      } catch (e) {
        // One unreadable file in a folder must not hide the others; a single named file is the whole source.
        if (!folder) throw e;
        reports.push({ file, rows: 0, ok: 0, errors: [{ line: 0, field: '', problem: (e as Error).message }] });
        continue;
      }
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
      errors.sort((a, b) => a.line - b.line);
      reports.push({ file, rows: parsed.rows.length + parsed.badLines, ok, errors });
    }
    this.report = {
      at: fetchedAt,
      files: reports,
      rows: reports.reduce((n, r) => n + r.rows, 0),
      ok: reports.reduce((n, r) => n + r.ok, 0),
      errors: reports.flatMap((r) => r.errors.map((e) => ({ file: r.file, ...e }))),
    };
    return items;
  }
}

export const hotlineType: SourceType<HotlineConfig> = {
  type: 'hotline',
  schema: HotlineConfig,
  create: (config) => new HotlineSource(config),
};
