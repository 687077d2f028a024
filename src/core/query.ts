import { z } from 'zod';
import { AlertStatus, ItemKind, Level } from './types.ts';

/** Accepts `a,b` or repeated params (`?level=红&level=橙`) and yields a list. */
const list = <T extends z.ZodTypeAny>(inner: T) =>
  z.preprocess((v) => {
    if (v == null || v === '') return undefined;
    const arr = Array.isArray(v) ? v : [v];
    return arr.flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
  }, z.array(inner).optional());

const date = z.preprocess(
  (v) => (v == null || v === '' ? undefined : v),
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date such as 2026-11-29 or 2026-11-29T08:00:00+08:00')
    .transform((s) => new Date(s).toISOString())
    .optional(),
);

const common = {
  level: list(Level),
  category: list(z.string()),
  /** GB/T 2260 code; a province or city code matches everything under it. */
  region: list(z.string().regex(/^\d{2,12}$/, 'expected a GB/T 2260 code such as 360102')),
  /** Chinese full text: segmented the same way items are. */
  q: z.string().max(200).optional(),
  from: date,
  to: date,
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

export const AlertQuery = z.object({ ...common, status: list(AlertStatus) }).strict();
export type AlertQuery = z.infer<typeof AlertQuery>;

export const ItemQuery = z
  .object({
    ...common,
    source: list(z.string()),
    kind: list(ItemKind),
    risk: z.preprocess(
      (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
      z.boolean().optional(),
    ),
  })
  .strict();
export type ItemQuery = z.infer<typeof ItemQuery>;

export interface Stats {
  items: { total: number; bySource: Record<string, number>; byKind: Record<string, number> };
  alerts: { total: number; byLevel: Record<string, number>; byStatus: Record<string, number> };
}
