import * as cheerio from 'cheerio';
import { z } from 'zod';
import { itemId } from '../core/ids.ts';
import type { ItemKind, RawItem } from '../core/types.ts';
import { ArticleEnricher, HTML_ACCEPT, type ArticleStats } from './article.ts';
import { canonicalEncoding, charsetOf, decodeBytes } from './encoding.ts';
import { SourceError } from './errors.ts';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, guardedFetch } from './fetch.ts';
import { htmlToLine } from './html-text.ts';
import { sharedRobots, type RobotsCache } from './robots.ts';
import { commonFields, Duration, type FetchReport, type Source, type SourceContext, type SourceType } from './source.ts';
import { formatProblem, parseChineseDate } from './time.ts';

const HttpUrl = z
  .string()
  .refine((s) => /^https?:\/\//i.test(s) && URL.canParse(s), 'expected an http(s) URL (html sources fetch web pages)');

const Selector = z.string().min(1, 'expected a CSS selector').refine((s) => {
  try {
    cheerio.load('<p></p>')(s);
    return true;
  } catch {
    return false;
  }
}, 'not a valid CSS selector');

/**
 * A web page without a feed, described by CSS selectors. `title`, `link` and `date` are looked
 * up inside each `list` element; `link` defaults to the title element when it is an <a>, else to
 * the first <a> of the item.
 *
 *   - id: county-notices
 *     type: html
 *     url: http://www.example-county.gov.cn/tzgg/
 *     list: ul.list li
 *     title: a
 *     date: span.date
 *     next: a.next          # optional, up to maxPages pages
 *     article: "#zoom"      # optional: fetch each new item's page and keep this element's text
 */
export const HtmlConfig = z.strictObject({
  type: z.literal('html'),
  ...commonFields('news'),
  url: HttpUrl,
  /** one element per item */
  list: Selector,
  title: Selector.default('a'),
  link: Selector.optional(),
  date: Selector.optional(),
  /** e.g. "YYYY年MM月DD日" or "MM-DD HH:mm"; without it the common Chinese forms are recognised */
  dateFormat: z
    .string()
    .min(1)
    .superRefine((f, ctx) => {
      const problem = formatProblem(f);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** the next-page link */
  next: Selector.optional(),
  maxPages: z.number().int().min(1).max(20).default(3),
  /** body selector on the linked page; `true` extracts the main text without a selector */
  article: z.union([Selector, z.literal(true)]).optional(),
  /** article pages fetched per poll at most; further new items wait for the next poll */
  maxArticles: z.number().int().min(1).max(50).default(10),
  /** the pages' charset when neither the server nor the page says it right */
  encoding: z
    .string()
    .refine((e) => canonicalEncoding(e) != null, 'unknown encoding (try gbk, gb18030, big5, utf-8)')
    .optional(),
  timeout: Duration.default(DEFAULT_TIMEOUT_MS),
  maxBytes: z.number().int().positive().max(100 * 1024 * 1024).default(DEFAULT_MAX_BYTES),
  robots: z.boolean().default(false),
});
export type HtmlConfig = z.infer<typeof HtmlConfig>;

export interface HtmlDeps {
  robots?: RobotsCache;
}

function httpUrl(href: string | undefined, base: string): string | undefined {
  if (!href) return undefined;
  try {
    const u = new URL(href.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

type ListItem = ReturnType<ReturnType<cheerio.CheerioAPI['root']>['find']>;

interface Page {
  url: string;
  bytes: number;
  $: cheerio.CheerioAPI;
  /** where relative links resolve: <base href> or the final URL */
  base: string;
}

export class HtmlSource implements Source {
  readonly type = 'html';
  readonly id: string;
  readonly kind: ItemKind;
  readonly everyMs: number;
  readonly weight: number;
  readonly region?: string;
  private readonly articles = new ArticleEnricher();
  private readonly robots: RobotsCache;
  private report: FetchReport | null = null;

  constructor(
    readonly config: HtmlConfig,
    deps: HtmlDeps = {},
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

  private allowPrivate(ctx: SourceContext): boolean {
    return Boolean(ctx.allowPrivate || this.config.allowPrivate);
  }

  private async page(url: string, ctx: SourceContext): Promise<Page> {
    const fetchOpts = { signal: ctx.signal, timeoutMs: this.config.timeout, maxBytes: this.config.maxBytes, allowPrivate: this.allowPrivate(ctx) };
    if (this.config.robots) await this.robots.check(url, ctx.now(), fetchOpts);
    const res = await guardedFetch(url, { ...fetchOpts, headers: { accept: HTML_ACCEPT } });
    const { text } = decodeBytes(res.body, { httpCharset: this.config.encoding ?? charsetOf(res.contentType), html: true });
    const $ = cheerio.load(text);
    return { url: res.url, bytes: res.body.length, $, base: httpUrl($('base[href]').attr('href'), res.url) ?? res.url };
  }

  private itemOf(page: Page, item: ListItem, fetchedAt: string, now: Date, warnings: string[]): RawItem | null {
    const titleEl = item.find(this.config.title).first();
    const title = htmlToLine(titleEl.html() ?? '') || (titleEl.attr('title') ?? '').trim();
    if (!title) return null;
    const linkEl = this.config.link ? item.find(this.config.link).first() : titleEl.is('a') ? titleEl : item.find('a').first();
    const url = httpUrl(linkEl.attr('href'), page.base);
    // Lists often truncate long titles with "…" and keep the full one in the title attribute.
    const fullTitle = (titleEl.attr('title') ?? linkEl.attr('title') ?? '').trim();
    const shown = fullTitle.length > title.length && /[…\.]{1,3}$/.test(title) ? fullTitle : title;
    let publishedAt = fetchedAt;
    let rawDate = '';
    if (this.config.date) {
      const dateEl = item.find(this.config.date).first();
      rawDate = (dateEl.text() || dateEl.attr('datetime') || '').trim();
      const parsed = parseChineseDate(rawDate, now, this.config.dateFormat);
      if (parsed) publishedAt = parsed;
      else warnings.push(`${url ?? title}: cannot read the date "${rawDate.slice(0, 40)}"`);
    }
    const fields: Record<string, string> = { page: page.url };
    if (rawDate) fields.date = rawDate;
    return {
      id: itemId(this.id, url ?? `${shown}\u0000${rawDate}`),
      sourceId: this.id,
      kind: this.kind,
      title: shown,
      body: '',
      ...(url ? { url } : {}),
      publishedAt,
      fetchedAt,
      fields,
    };
  }

  async poll(ctx: SourceContext): Promise<RawItem[]> {
    const started = performance.now();
    const now = ctx.now();
    const fetchedAt = now.toISOString();
    const warnings: string[] = [];
    const visited = new Set<string>();
    const byId = new Map<string, RawItem>();
    let bytes = 0;
    let pages = 0;
    let next: string | undefined = this.config.url;
    while (next && pages < this.config.maxPages) {
      ctx.signal.throwIfAborted();
      visited.add(next);
      let page: Page;
      try {
        page = await this.page(next, ctx);
      } catch (e) {
        // The first page is the source; a later one failing costs only the older items.
        if (pages === 0) throw e;
        warnings.push(`page ${pages + 1} (${next}): ${(e as Error).message}`);
        break;
      }
      pages++;
      visited.add(page.url);
      bytes += page.bytes;
      const els = page.$.root().find(this.config.list);
      if (els.length === 0 && pages === 1) {
        throw new SourceError(next, `list selector "${this.config.list}" matched nothing (has the page layout changed?)`);
      }
      for (let i = 0; i < els.length; i++) {
        const item = this.itemOf(page, els.eq(i), fetchedAt, now, warnings);
        if (item && !byId.has(item.id)) byId.set(item.id, item);
      }
      const href = this.config.next ? page.$(this.config.next).first().attr('href') : undefined;
      next = httpUrl(href, page.base);
      if (next && visited.has(next)) next = undefined;
    }
    let items = [...byId.values()];
    let stats: ArticleStats = { fetched: 0, failed: 0, deferred: 0, errors: [] };
    if (this.config.article) {
      ({ items, stats } = await this.articles.enrich(items, ctx, {
        selector: this.config.article === true ? undefined : this.config.article,
        max: this.config.maxArticles,
        timeoutMs: this.config.timeout,
        maxBytes: this.config.maxBytes,
        allowPrivate: this.allowPrivate(ctx),
        robots: this.config.robots ? this.robots : null,
      }));
    }
    this.report = {
      type: 'fetch',
      at: fetchedAt,
      url: this.config.url,
      items: items.length,
      notModified: false,
      bytes,
      ms: Math.round(performance.now() - started),
      pages,
      articles: { fetched: stats.fetched, failed: stats.failed, deferred: stats.deferred },
      warnings: [...warnings, ...stats.errors.map((e) => `article ${e.url}: ${e.problem}`)],
    };
    return items;
  }
}

export const htmlType: SourceType<HtmlConfig> = {
  type: 'html',
  schema: HtmlConfig,
  create: (config) => new HtmlSource(config),
};
