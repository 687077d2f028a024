import path from 'node:path';
import { z } from 'zod';
import type { ItemKind, RawItem } from '../core/types.ts';
import { decodeBytes, charsetOf } from './encoding.ts';
import { SourceError } from './errors.ts';
import { feedItems, parseFeed } from './feed.ts';
import { readLocalFile } from './files.ts';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, guardedFetch } from './fetch.ts';
import { commonFields, Duration, type Source, type SourceContext, type SourceType } from './source.ts';

const HTTP = /^https?:\/\//i;
const OTHER_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** An http(s) URL, or a file path (relative paths resolve against the pipeline file's folder). */
export const UrlOrPath = z
  .string()
  .min(1, 'expected an http(s) URL or a path')
  .refine((s) => {
    if (HTTP.test(s)) return URL.canParse(s);
    return !OTHER_SCHEME.test(s);
  }, 'expected an http(s) URL or a path');

export const RssConfig = z.strictObject({
  type: z.literal('rss'),
  ...commonFields('news'),
  url: UrlOrPath,
  /** deadline for one fetch */
  timeout: Duration.default(DEFAULT_TIMEOUT_MS),
  /** cap on the feed's size in bytes */
  maxBytes: z.number().int().positive().max(100 * 1024 * 1024).default(DEFAULT_MAX_BYTES),
});
export type RssConfig = z.infer<typeof RssConfig>;

interface Loaded {
  bytes: Buffer;
  httpCharset?: string;
  origin: string;
  baseUrl?: string;
}

export class RssSource implements Source {
  readonly type = 'rss';
  readonly id: string;
  readonly kind: ItemKind;
  readonly everyMs: number;
  readonly weight: number;
  constructor(readonly config: RssConfig) {
    this.id = config.id;
    this.kind = config.kind;
    this.everyMs = config.every;
    this.weight = config.weight;
  }

  private async load(ctx: SourceContext): Promise<Loaded> {
    const { url, timeout, maxBytes } = this.config;
    if (HTTP.test(url)) {
      const res = await guardedFetch(url, {
        signal: ctx.signal,
        timeoutMs: timeout,
        maxBytes,
        allowPrivate: ctx.allowPrivate || this.config.allowPrivate,
      });
      return { bytes: res.body, httpCharset: charsetOf(res.contentType), origin: url, baseUrl: res.url };
    }
    const file = path.resolve(ctx.baseDir, url);
    return { bytes: await readLocalFile(file, maxBytes), origin: file };
  }

  async poll(ctx: SourceContext): Promise<RawItem[]> {
    const fetchedAt = ctx.now().toISOString();
    const loaded = await this.load(ctx);
    const { text } = decodeBytes(loaded.bytes, { httpCharset: loaded.httpCharset, xml: true });
    const feed = await parseFeed(text, loaded.origin);
    return feedItems(feed, { sourceId: this.id, kind: this.kind, fetchedAt, baseUrl: loaded.baseUrl });
  }
}

export const rssType: SourceType<RssConfig> = {
  type: 'rss',
  schema: RssConfig,
  create: (config) => new RssSource(config),
};
