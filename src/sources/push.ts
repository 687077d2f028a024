import { z } from 'zod';
import type { RawItem } from '../core/types.ts';
import { columnMapping, DEFAULT_MASK, rowToItem } from './hotline.ts';

/** Most records one push request may carry; larger batches are split by the sender. */
export const MAX_PUSH_RECORDS = 500;

const Text = (max: number) => z.string().trim().max(max);
/** A field the record cannot do without: absent or empty, the error says what it is for. */
const Required = (max: number, what: string) =>
  z.string({ error: (iss) => (iss.input === undefined ? `required: ${what}` : 'expected a string') }).trim().min(1, `required: ${what}`).max(max);

/**
 * One pushed complaint record: the fields of a 12315-style export, under their Chinese names,
 * so a system that already exports CSV pushes the same record as JSON. 被投诉主体 may be a name
 * or the structured {名称, 统一社会信用代码, 地址}.
 */
export const PushedRecord = z
  .object({
    登记编号: Required(64, 'the record number (the idempotency key)'),
    登记时间: Required(40, 'when the record was registered, e.g. 2026-11-29 08:15:00'),
    诉求内容: Required(20_000, 'the complaint text'),
    渠道: Text(40).optional(),
    诉求类型: z.enum(['投诉', '举报', '咨询']).optional(),
    被投诉主体: z
      .union([Text(200), z.object({ 名称: Text(200), 统一社会信用代码: Text(18).optional(), 地址: Text(300).optional() }).strict()])
      .optional(),
    地址: Text(300).optional(),
    所属区域: Text(64).optional(),
    涉及区域: Text(64).optional(),
    商品或服务分类: Text(60).optional(),
    问题类别: Text(60).optional(),
    处理单位: Text(100).optional(),
    处理状态: Text(20).optional(),
    投诉人: Text(60).optional(),
    联系电话: Text(30).optional(),
  })
  .strict();
export type PushedRecord = z.infer<typeof PushedRecord>;

/** A single record, an array of records, or `{ records: [...] }`. */
export const PushBody = z.union([
  PushedRecord.transform((r) => [r]),
  z.array(PushedRecord).min(1, 'an empty batch').max(MAX_PUSH_RECORDS, `at most ${MAX_PUSH_RECORDS} records per request`),
  z
    .object({ records: z.array(PushedRecord).min(1, 'an empty batch').max(MAX_PUSH_RECORDS, `at most ${MAX_PUSH_RECORDS} records per request`) })
    .strict()
    .transform((o) => o.records),
]);

/** Flattens a validated record to the export's columns and maps it exactly as the hotline source maps a row. */
export function pushedToItem(r: PushedRecord, sourceId: string, index: number, fetchedAt: string): RawItem | string {
  const record: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    if (typeof v === 'object') {
      for (const [sub, sv] of Object.entries(v)) if (sv) record[`${k}.${sub}`] = String(sv);
    } else record[k] = v;
  }
  const out = rowToItem(
    { record, line: index + 1 },
    { sourceId, kind: 'complaint', fetchedAt, mapping: columnMapping(), mask: new Set(DEFAULT_MASK) },
  );
  return Array.isArray(out) ? out.map((e) => e.problem).join('; ') : out;
}
