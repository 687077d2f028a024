import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { hotlineType } from './hotline.ts';
import { htmlType } from './html.ts';
import { rssType } from './rss.ts';
import type { Source, SourceType } from './source.ts';

// `any`: each entry's config type is known only to its own schema, which validates it before create().
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const types = new Map<string, SourceType<any>>();

/** Adds a source type; its `type` is the name pipelines use. */
export function registerSourceType<C>(t: SourceType<C>): void {
  if (types.has(t.type)) throw new Error(`source type "${t.type}" is already registered`);
  types.set(t.type, t);
}
registerSourceType(rssType);
registerSourceType(hotlineType);
registerSourceType(htmlType);

export function sourceTypes(): string[] {
  return [...types.keys()].sort();
}

export interface Where {
  file: string;
  /** where the entry sits in the file, e.g. "sources[2]" */
  path: string;
  line?: number;
}

function joinPath(base: string, segs: readonly PropertyKey[]): string {
  return segs.reduce<string>((p, s) => (typeof s === 'number' ? `${p}[${s}]` : `${p}.${String(s)}`), base);
}

function topLevelKeys(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function describeIssue(issue: z.core.$ZodIssue, base: string, schema: z.ZodType): { field: string; problem: string }[] {
  if (issue.code === 'unrecognized_keys') {
    const known = issue.path.length === 0 ? topLevelKeys(schema) : [];
    return issue.keys.map((k) => ({
      field: joinPath(base, [...issue.path, k]),
      problem: `unknown option${known.length ? ` (known: ${known.join(', ')})` : ''}`,
    }));
  }
  let problem = issue.message;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) problem = `required (expected ${issue.expected})`;
  return [{ field: joinPath(base, issue.path), problem }];
}

/**
 * Validates one entry of a pipeline's `sources:` list against its type's schema and builds it.
 * Errors name file, path and line: "pipelines/default.yaml: sources[2].url: expected an http(s) URL or a path".
 */
export function createSource(config: unknown, where: Where): Source {
  if (config == null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError(where.file, where.path, 'expected a mapping with at least id and type', where.line);
  }
  const type = (config as Record<string, unknown>).type;
  const known = sourceTypes().join(', ');
  if (type === undefined) {
    throw new ConfigError(where.file, `${where.path}.type`, `required; known types: ${known}`, where.line);
  }
  const t = typeof type === 'string' ? types.get(type) : undefined;
  if (!t) {
    throw new ConfigError(where.file, `${where.path}.type`, `unknown source type ${JSON.stringify(type)}; known types: ${known}`, where.line);
  }
  const parsed = t.schema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((i) => describeIssue(i, where.path, t.schema));
    const [first, ...rest] = problems;
    const more = rest.map((p) => `; also ${p.field}: ${p.problem}`).join('');
    throw new ConfigError(where.file, first.field, first.problem + more, where.line);
  }
  return t.create(parsed.data);
}

const HOTLINE_EXT = /\.(csv|xlsx|xls|jsonl|ndjson)$/i;

/** What a local target looks like: a folder or JSON/CSV rows → hotline; markup → rss. */
function sniffLocal(target: string): 'rss' | 'hotline' {
  try {
    if (statSync(target).isDirectory()) return 'hotline';
    const fd = openSync(target, 'r');
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    const head = buf.subarray(0, n).toString('latin1').replace(/^\xef\xbb\xbf/, '').trimStart();
    if (head.startsWith('{')) return 'hotline';
  } catch {
    // A missing file fails on poll with a clear SourceError; guessing rss here is harmless.
  }
  return 'rss';
}

/**
 * For `sentinel fetch URL|PATH [--type rss|html|hotline]`: an ad-hoc source with id "adhoc".
 * Without a type, .csv/.xlsx/.jsonl (or a folder, or a file of JSON lines) → hotline, anything
 * else → rss. `options` are further source options (an html source needs at least `list`).
 * Relative paths resolve against the poll context's baseDir (the CLI passes the working directory).
 */
export function adhocSource(target: string, type?: string, options: Record<string, unknown> = {}): Source {
  const where = { file: 'command line', path: 'fetch' };
  const isUrl = /^https?:\/\//i.test(target);
  let chosen = type;
  if (chosen === undefined) {
    const pathname = isUrl && URL.canParse(target) ? new URL(target).pathname : target;
    chosen = HOTLINE_EXT.test(pathname) ? 'hotline' : isUrl ? 'rss' : sniffLocal(target);
  }
  if (!types.has(chosen)) {
    throw new ConfigError(where.file, '--type', `unknown source type ${JSON.stringify(chosen)}; known types: ${sourceTypes().join(', ')}`);
  }
  if (chosen === 'hotline') {
    if (isUrl) throw new ConfigError(where.file, 'fetch', 'hotline sources read local files; download the export first');
    return createSource({ ...options, id: 'adhoc', type: 'hotline', path: target }, where);
  }
  if (chosen === 'html' && options.list === undefined) {
    throw new ConfigError(where.file, '--list', 'an html source needs a CSS selector for its list items (and title, link, date selectors as needed)');
  }
  return createSource({ ...options, id: 'adhoc', type: chosen, url: target }, where);
}
