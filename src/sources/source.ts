import { z } from 'zod';
import type { ItemKind, RawItem } from '../core/types.ts';
import { ITEM_KINDS } from '../core/types.ts';

export interface SourceContext {
  signal: AbortSignal;
  now(): Date;
  /** folder of the pipeline file; relative paths resolve against it */
  baseDir: string;
  /** allow loopback/private addresses for this fetch (CLI --allow-private, or source option) */
  allowPrivate?: boolean;
}

/** A problem with one row of a drop file: the rest of the file still counts. */
export interface RowError {
  line: number;
  field: string;
  problem: string;
}

export interface FileReport {
  file: string;
  /** data rows seen (header excluded) */
  rows: number;
  /** rows that became items */
  ok: number;
  errors: RowError[];
}

/** What the last poll read, for `sentinel ingest` output and the desk's source health view. */
export interface PollReport {
  at: string;
  files: FileReport[];
  rows: number;
  ok: number;
  errors: (RowError & { file: string })[];
}

export interface Source {
  readonly id: string;
  readonly type: string;
  readonly kind: ItemKind;
  /** poll interval in ms */
  readonly everyMs: number;
  /** source weight for scoring, default 1 */
  readonly weight: number;
  poll(ctx: SourceContext): Promise<RawItem[]>;
  /** per-file, per-row outcome of the last poll, for sources that read rows (null before the first poll) */
  lastReport?(): PollReport | null;
}

export interface SourceType<C> {
  type: string;
  schema: z.ZodType<C>;
  create(config: C): Source;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "10m", "1h", "1h30m", "500ms" → milliseconds; null when it is not a duration. */
export function parseDuration(s: string): number | null {
  const t = s.trim();
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h|d))+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNITS[m[2]];
  return Math.round(total);
}

export const Duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms == null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 10m or 1h, got "${s}"` });
    return z.NEVER;
  }
  return ms;
});

export const SourceId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-_]*$/, 'expected lower-case letters, digits, - and _ (starting with a letter or digit)');

/** Fields every source has. Each type extends this with its own options, strictly, so typos fail at load time. */
export function commonFields(defaultKind: ItemKind) {
  return {
    id: SourceId,
    kind: z.enum(ITEM_KINDS).default(defaultKind),
    every: Duration.default(10 * 60_000).pipe(z.number().min(1000, 'polling more often than every 1s is not allowed')),
    weight: z.number().min(0).max(5).default(1),
    allowPrivate: z.boolean().default(false),
  };
}

export interface CommonConfig {
  id: string;
  type: string;
  kind: ItemKind;
  /** poll interval, ms (parsed from `every`) */
  every: number;
  weight: number;
  allowPrivate: boolean;
}
