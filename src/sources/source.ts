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

/** What the last poll of a row source (hotline) read, for `sentinel ingest` output and the desk's source health view. */
export interface PollReport {
  type: 'rows';
  at: string;
  files: FileReport[];
  rows: number;
  ok: number;
  errors: (RowError & { file: string })[];
}

/** What the last poll of a web source (rss, html) fetched. */
export interface FetchReport {
  type: 'fetch';
  at: string;
  url: string;
  /** items returned by the poll */
  items: number;
  /** the server answered 304 to our conditional GET: nothing changed, no items, still a success */
  notModified: boolean;
  /** bytes of the feed or list pages (articles excluded) */
  bytes: number;
  /** wall-clock duration of the poll */
  ms: number;
  /** list pages read (html sources follow `next` links) */
  pages: number;
  /** article pages fetched for full text, failed, and left for a later poll by the per-poll cap */
  articles: { fetched: number; failed: number; deferred: number };
  /** problems that did not fail the poll: an article that could not be fetched, a date that could not be read */
  warnings: string[];
}

export type SourceReport = PollReport | FetchReport;

export interface Source {
  readonly id: string;
  readonly type: string;
  readonly kind: ItemKind;
  /** poll interval in ms */
  readonly everyMs: number;
  /** source weight for scoring, default 1 */
  readonly weight: number;
  /** Default region of the source's items (GB/T 2260), when an item names none itself. */
  readonly region?: string;
  /**
   * Reads what the source has now. Items are stable by id, so returning an item again is harmless
   * (downstream upserts). Throws a SourceError (retriable or not) when the source cannot be read.
   */
  poll(ctx: SourceContext): Promise<RawItem[]>;
  /** outcome of the last poll: per file and row for hotline, per fetch for rss/html (null before the first poll) */
  lastReport?(): SourceReport | null;
  /**
   * Confirms that the items of the last successful poll are durably stored, so the source may
   * forget their origin. Contract for the runner:
   *   const items = await source.poll(ctx);
   *   await bus.publish('raw', items);          // durably stored
   *   await source.acknowledge?.();             // only after publish succeeded
   * Never call it after a failed publish: the next poll then returns the same items again
   * (at-least-once). The hotline source moves the drop files it read into done/ or failed/ here,
   * with a `<name>.report.json` beside each; a source without durable side effects omits it.
   * Calling it twice, or without a poll, does nothing.
   */
  acknowledge?(): Promise<void>;
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
    /** The region a source is about (a county government's site): used when an item names no place. */
    region: z.string().regex(/^\d{6}$/, 'a six-digit GB/T 2260 code such as 360731').optional(),
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
