import { createRequire } from 'node:module';
import * as cheerio from 'cheerio';
import type { RawItem } from '../core/types.ts';
import { decodeBytes, charsetOf } from './encoding.ts';
import { SentinelError } from '../core/errors.ts';
import { guardedFetch } from './fetch.ts';
import { htmlToText, MAX_BODY_CHARS } from './html-text.ts';
import type { RobotsCache } from './robots.ts';
import type { SourceContext } from './source.ts';

// Readability and a DOM (about 30 MB) are needed only for pages without a known article container:
// loaded on first use, so a pipeline of feeds and hotline files never carries them.
const requireLazy = createRequire(import.meta.url);
let readability: { parseHTML: typeof import('linkedom').parseHTML; Readability: typeof import('@mozilla/readability').Readability } | null = null;
const loadReadability = () =>
  (readability ??= {
    parseHTML: (requireLazy('linkedom') as typeof import('linkedom')).parseHTML,
    Readability: (requireLazy('@mozilla/readability') as typeof import('@mozilla/readability')).Readability,
  });

export const HTML_ACCEPT = 'text/html, application/xhtml+xml;q=0.9, */*;q=0.5';

/**
 * Body containers of the CMSs most Chinese government sites run on (TRS WCM, Hanweb / 大汉,
 * UCAP, common templates). Tried after a source's own selector and before the generic extractor,
 * because on short notices a generic extractor keeps the navigation and footer.
 */
export const GOV_CMS_SELECTORS = [
  '.TRS_Editor',
  '#zoom',
  '#Zoom',
  '#UCAP-CONTENT',
  '.pages_content',
  '#xxgk_content',
  '.article-content',
  '.article_content',
  '.news_content',
  'article',
];

export interface Extracted {
  text: string;
  by: 'selector' | 'cms' | 'readability' | 'body';
}

function cap(text: string): string {
  return text.length > MAX_BODY_CHARS ? text.slice(0, MAX_BODY_CHARS) : text;
}

function bySelector($: cheerio.CheerioAPI, selector: string): string {
  const parts = $(selector)
    .toArray()
    .map((el) => htmlToText($.html(el)))
    .filter(Boolean);
  return parts.join('\n');
}

/**
 * Main text of an article page: the source's own selector first, then known government CMS
 * containers, then Readability (Mozilla's reader view) over linkedom, then the whole body.
 */
export function extractMainText(html: string, selector?: string): Extracted {
  const $ = cheerio.load(html);
  $('script,style,noscript,iframe,object,template').remove();
  if (selector) {
    const text = bySelector($, selector);
    if (text) return { text: cap(text), by: 'selector' };
  }
  for (const s of GOV_CMS_SELECTORS) {
    const text = bySelector($, s);
    if (text.length >= 20) return { text: cap(text), by: 'cms' };
  }
  try {
    const { parseHTML, Readability } = loadReadability();
    const { document } = parseHTML($.html());
    // Readability's types want a DOM Document; linkedom's is structurally close enough for it.
    const article = new Readability(document as unknown as Document, { maxElemsToParse: 50_000 }).parse();
    const text = htmlToText(article?.content ?? '');
    if (text) return { text: cap(text), by: 'readability' };
  } catch {
    // Over maxElemsToParse or a document linkedom cannot model: the body text still says something.
  }
  return { text: cap(htmlToText($('body').html() ?? $.html())), by: 'body' };
}

export interface ArticleOptions {
  /** CSS selector of the body on the linked page */
  selector?: string;
  /** at most this many article fetches per poll */
  max: number;
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
  /** check robots.txt before each fetch, or null not to */
  robots: RobotsCache | null;
}

export interface ArticleStats {
  fetched: number;
  failed: number;
  /** new items left for a later poll because of the per-poll cap */
  deferred: number;
  errors: { url: string; problem: string }[];
}

/** Fetches one page under the guard and extracts its main text. */
export async function fetchArticle(url: string, ctx: SourceContext, o: ArticleOptions): Promise<Extracted> {
  const fetchOpts = { signal: ctx.signal, timeoutMs: o.timeoutMs, maxBytes: o.maxBytes, allowPrivate: o.allowPrivate };
  await o.robots?.check(url, ctx.now(), fetchOpts);
  const res = await guardedFetch(url, { ...fetchOpts, headers: { accept: HTML_ACCEPT } });
  const { text } = decodeBytes(res.body, { httpCharset: charsetOf(res.contentType), html: true });
  return extractMainText(text, o.selector);
}

/**
 * Adds article text to items, fetching only pages not fetched before. Extracted bodies are kept
 * for as long as their item is still listed, so an item re-emitted on the next poll carries the
 * same body (an upsert by id must not replace the article with the listing's summary).
 */
export class ArticleEnricher {
  private bodies = new Map<string, string>();
  /** ids whose page failed for good (404, refused): not fetched again while listed */
  private given = new Set<string>();

  /**
   * Returns the items with bodies filled in. `prefer` decides between the item's own body and the
   * article's: html list items have none, a feed's summary gives way to a longer article.
   */
  async enrich(items: RawItem[], ctx: SourceContext, o: ArticleOptions): Promise<{ items: RawItem[]; stats: ArticleStats }> {
    const stats: ArticleStats = { fetched: 0, failed: 0, deferred: 0, errors: [] };
    const out: RawItem[] = [];
    for (const item of items) {
      let body = this.bodies.get(item.id);
      if (body === undefined && item.url && !this.given.has(item.id)) {
        if (stats.fetched + stats.failed >= o.max) stats.deferred++;
        else {
          ctx.signal.throwIfAborted();
          try {
            body = (await fetchArticle(item.url, ctx, o)).text;
            this.bodies.set(item.id, body);
            stats.fetched++;
          } catch (e) {
            if (ctx.signal.aborted) throw e;
            stats.failed++;
            stats.errors.push({ url: item.url, problem: e instanceof Error ? e.message : String(e) });
            // A network blip is tried again next poll; a 404 or a refusal is not.
            if (!(e instanceof SentinelError && e.retriable)) this.given.add(item.id);
          }
        }
      }
      out.push(body && body.length > item.body.length ? { ...item, body } : item);
    }
    // Items that left the listing do not come back; forgetting them bounds the memory.
    const listed = new Set(items.map((i) => i.id));
    for (const id of this.bodies.keys()) if (!listed.has(id)) this.bodies.delete(id);
    for (const id of this.given) if (!listed.has(id)) this.given.delete(id);
    return { items: out, stats };
  }
}
