import path from 'node:path';
import { z } from 'zod';
import type { ItemKind, RawItem } from '../core/types.ts';
import { decodeBytes, charsetOf } from './encoding.ts';
import { SourceError } from './errors.ts';
import { feedItems, parseFeed } from './feed.ts';
import { readLocalFile } from './files.ts';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, guardedFetch } from './fetch.ts';
import { ArticleEnricher, type ArticleStats } from './article.ts';
import { sharedRobots, type RobotsCache } from './robots.ts';
import { commonFields, Duration, type FetchReport, type Source, type SourceContext, type SourceType } from './source.ts';

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

/** Full-article fetch: each new item's link is fetched and its main text replaces a shorter summary. */
export const FullTextConfig = z.strictObject({
  /** CSS selector of the article body on the linked pages; without it, known CMS containers, then Readability */
  selector: z.string().min(1).optional(),
  /** at most this many article fetches per poll (the rest wait for the next poll) */
  max: z.number().int().min(1).max(50).default(5),
});

export const RssConfig = z.strictObject({
  type: z.literal('rss'),
  ...commonFields('news'),
  url: UrlOrPath,
  /** deadline for one fetch */
  timeout: Duration.default(DEFAULT_TIMEOUT_MS),
  /** cap on the feed's size in bytes */
  maxBytes: z.number().int().positive().max(100 * 1024 * 1024).default(DEFAULT_MAX_BYTES),
  /** fetch each new item's page and keep its main text as the body */
  fullText: FullTextConfig.optional(),
  /** obey the site's robots.txt (for the feed and article pages) */
  robots: z.boolean().default(false),
});
export type RssConfig = z.infer<typeof RssConfig>;

interface Validators {
  etag?: string;
  lastModified?: string;
}

interface Loaded {
  bytes: Buffer;
  httpCharset?: string;
  origin: string;
  baseUrl?: string;
  notModified: boolean;
  validators?: Validators;
}

export interface RssDeps {
  /** robots.txt cache; the process-wide one by default */
  robots?: RobotsCache;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export class RssSource implements Source {
  readonly type = 'rss';
  readonly id: string;
  readonly kind: ItemKind;
  readonly everyMs: number;
  readonly weight: number;
  readonly region?: string;
  /** validators of the last feed whose items were acknowledged; sent as If-None-Match / If-Modified-Since */
  private validators: Validators = {};
  /** validators of the last poll, waiting for acknowledge() */
  private pendingValidators: Validators | null = null;
  private readonly articles = new ArticleEnricher();
  private readonly robots: RobotsCache;
  private report: FetchReport | null = null;

  constructor(
    readonly config: RssConfig,
    deps: RssDeps = {},
  ) {
    this.id = config.id;
    this.kind = config.kind;
    this.everyMs = config.every;
    this.weight = config.weight;
    this.region = config.region;
    this.robots = deps.robots ?? sharedRobots;
  }

  lastReport(): FetchReport | null {
    return this.report;
  }

  /**
   * Remembers the feed's ETag / Last-Modified only now: had they been kept at poll time, a failed
   * publish followed by a 304 would lose that poll's items for good.
   */
  async acknowledge(): Promise<void> {
    if (this.pendingValidators) this.validators = this.pendingValidators;
    this.pendingValidators = null;
  }

  private allowPrivate(ctx: SourceContext): boolean {
    return Boolean(ctx.allowPrivate || this.config.allowPrivate);
  }

  private async load(ctx: SourceContext): Promise<Loaded> {
    const { url, timeout, maxBytes } = this.config;
    if (HTTP.test(url)) {
      const fetchOpts = { signal: ctx.signal, timeoutMs: timeout, maxBytes, allowPrivate: this.allowPrivate(ctx) };
      if (this.config.robots) await this.robots.check(url, ctx.now(), fetchOpts);
      const conditional: Record<string, string> = {};
      if (this.validators.etag) conditional['if-none-match'] = this.validators.etag;
      if (this.validators.lastModified) conditional['if-modified-since'] = this.validators.lastModified;
      const res = await guardedFetch(url, { ...fetchOpts, headers: conditional });
      const validators = { etag: header(res.headers.etag), lastModified: header(res.headers['last-modified']) };
      return {
        bytes: res.body,
        httpCharset: charsetOf(res.contentType),
        origin: url,
        baseUrl: res.url,
        notModified: res.status === 304,
        validators: res.status === 304 ? this.validators : validators,
      };
    }
    const file = path.resolve(ctx.baseDir, url);
    return { bytes: await readLocalFile(file, maxBytes), origin: file, notModified: false };
  }

  async poll(ctx: SourceContext): Promise<RawItem[]> {
    const started = performance.now();
    const fetchedAt = ctx.now().toISOString();
    this.pendingValidators = null;
    const loaded = await this.load(ctx);
    let items: RawItem[] = [];
    let stats: ArticleStats = { fetched: 0, failed: 0, deferred: 0, errors: [] };
    const warnings: string[] = [];
    if (!loaded.notModified) {
      const decoded = decodeBytes(loaded.bytes, { httpCharset: loaded.httpCharset, xml: true });
      if (decoded.mislabelled) warnings.push(`declared ${decoded.mislabelled} but the bytes are not; read as ${decoded.encoding}`);
      const feed = await parseFeed(decoded.text, loaded.origin);
      items = feedItems(feed, { sourceId: this.id, kind: this.kind, fetchedAt, baseUrl: loaded.baseUrl });
      const { fullText } = this.config;
      if (fullText) {
        ({ items, stats } = await this.articles.enrich(items, ctx, {
          selector: fullText.selector,
          max: fullText.max,
          timeoutMs: this.config.timeout,
          maxBytes: this.config.maxBytes,
          allowPrivate: this.allowPrivate(ctx),
          robots: this.config.robots ? this.robots : null,
        }));
      }
    }
    this.pendingValidators = loaded.validators ?? null;
    this.report = {
      type: 'fetch',
      at: fetchedAt,
      url: loaded.origin,
      items: items.length,
      notModified: loaded.notModified,
      bytes: loaded.bytes.length,
      ms: Math.round(performance.now() - started),
      pages: 1,
      articles: { fetched: stats.fetched, failed: stats.failed, deferred: stats.deferred },
      warnings: [...warnings, ...stats.errors.map((e) => `article ${e.url}: ${e.problem}`)],
    };
    return items;
  }
}

export const rssType: SourceType<RssConfig> = {
  type: 'rss',
  schema: RssConfig,
  create: (config) => new RssSource(config),
};
