import Parser from 'rss-parser';
import { contentHash, itemId } from '../core/ids.ts';
import type { ItemKind, RawItem } from '../core/types.ts';
import { SourceError } from './errors.ts';
import { htmlToLine, htmlToText, MAX_BODY_CHARS } from './html-text.ts';
import { parseChinaTime } from './time.ts';

export type FeedItem = Parser.Item & Record<string, unknown>;
export interface ParsedFeed {
  title?: string;
  link?: string;
  items: FeedItem[];
}

function lineCount(text: string): number {
  return text.split('\n').length;
}

function rootElement(text: string): string | undefined {
  const stripped = text.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<![^>]*>/g, '');
  return /<([A-Za-z_][\w:.-]*)/.exec(stripped)?.[1];
}

/** xml2js/sax messages ("Unexpected close tag\nLine: 11\nColumn: 9\nChar: >") rewritten for a duty officer. */
function explainParseError(message: string, text: string): string {
  if (message === 'Unable to parse XML.') return text.trim() ? 'no XML content' : 'the document is empty';
  if (message.startsWith('Feed not recognized')) {
    const root = rootElement(text);
    return root ? `root element <${root}> is not <rss>, <rdf:RDF> or <feed>` : 'no root element';
  }
  if (message === 'Invalid time value') return 'an Atom entry has an invalid <published> or <updated> date';
  const [first, ...rest] = message.split('\n');
  const at = Object.fromEntries(rest.map((l) => l.split(/:\s*/, 2)).filter((p) => p.length === 2));
  // sax counts lines from 0; at end of input it can point one past the last line.
  const line = at.Line != null ? Math.min(Number(at.Line) + 1, lineCount(text)) : undefined;
  const what = first.replace(/\.$/, '');
  if (/^Unclosed root tag/i.test(what)) {
    return `the document ends before its root element is closed (truncated?) at line ${line ?? lineCount(text)}`;
  }
  const where = line != null ? ` at line ${line}${at.Column != null ? `, column ${at.Column}` : ''}` : '';
  return `${what.charAt(0).toLowerCase()}${what.slice(1)}${where}`;
}

/**
 * Feeds never need their own entities; a DTD that declares some is an attack (billion laughs:
 * nested entities expanding to gigabytes; XXE: an entity reading file:///etc/passwd) or a broken
 * generator. sax would refuse them as unknown entities anyway — this names the attack, before any
 * parsing. A plain DOCTYPE (RSS 0.91's) stays allowed.
 */
function refuseDtdEntities(text: string, origin: string): void {
  const head = text.slice(0, 64 * 1024);
  const doctype = /<!DOCTYPE\b[^[>]*(\[[\s\S]*?\]\s*)?>/i.exec(head);
  if (!doctype) return;
  if (/<!ENTITY\b/i.test(doctype[0]) || (doctype[1] == null && /<!ENTITY\b/i.test(head))) {
    const external = /<!ENTITY[^>]*\b(SYSTEM|PUBLIC)\b/i.test(doctype[0]);
    throw new SourceError(
      origin,
      `not an RSS/Atom feed: refusing a DTD that declares entities (${external ? 'external entity: XXE' : 'entity expansion: billion laughs'} attack?)`,
    );
  }
}

export const MAX_TITLE_CHARS = 500;

/** Parses RSS 2.0, RSS 0.9x, RSS 1.0 (RDF) and Atom from text we decoded ourselves. */
export async function parseFeed(text: string, origin: string): Promise<ParsedFeed> {
  refuseDtdEntities(text, origin);
  // A fresh parser per call: xml2js parsers keep state between documents.
  const parser = new Parser({ xml2js: { strict: true } });
  try {
    const feed = await parser.parseString(text);
    return { title: feed.title, link: feed.link, items: (feed.items ?? []) as FeedItem[] };
  } catch (e) {
    throw new SourceError(origin, `not an RSS/Atom feed: ${explainParseError((e as Error).message ?? String(e), text)}`, {
      cause: e,
    });
  }
}

/** Text of an xml2js value: strings as they are, `{_: text, $: attrs}` as its text, arrays by their first value. */
export function xmlText(v: unknown): string {
  if (v == null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(xmlText).filter(Boolean).join(' ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o._ === 'string') return o._;
    return Object.entries(o)
      .filter(([k]) => k !== '$')
      .map(([, x]) => xmlText(x))
      .filter(Boolean)
      .join(' ');
  }
  return '';
}

function httpUrl(link: string, base: string | undefined): string | undefined {
  if (!link) return undefined;
  try {
    const u = base ? new URL(link, base) : new URL(link);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A hostile or broken feed can carry a 10 MB title: the markup is cut before it is parsed as HTML
 * (so the cost stays bounded) and the text after, with an ellipsis so a reader sees it was cut.
 */
function clipLine(html: string): string {
  const line = htmlToLine(html.length > MAX_TITLE_CHARS * 8 ? html.slice(0, MAX_TITLE_CHARS * 8) : html);
  return line.length > MAX_TITLE_CHARS ? `${line.slice(0, MAX_TITLE_CHARS)}…` : line;
}

function clipText(html: string): string {
  const text = htmlToText(html.length > MAX_BODY_CHARS * 4 ? html.slice(0, MAX_BODY_CHARS * 4) : html);
  return text.length > MAX_BODY_CHARS ? text.slice(0, MAX_BODY_CHARS) : text;
}

export interface FeedItemsOptions {
  sourceId: string;
  kind: ItemKind;
  fetchedAt: string;
  /** where relative links resolve: the feed's own URL when fetched over http(s) */
  baseUrl?: string;
}

/** Feed entries → RawItems. Same feed in, same ids out: ids hash the source id and the entry's own key. */
export function feedItems(feed: ParsedFeed, o: FeedItemsOptions): RawItem[] {
  const base = o.baseUrl ?? httpUrl(feed.link ?? '', undefined);
  const feedTitle = clipLine(xmlText(feed.title));
  return feed.items.map((it) => {
    const title = clipLine(xmlText(it.title));
    const body = clipText(xmlText(it['content:encoded']) || xmlText(it.content) || xmlText(it.summary));
    const link = xmlText(it.link).trim();
    const rawDate = xmlText(it.pubDate) || xmlText(it.date);
    const publishedAt = parseChinaTime(rawDate) ?? parseChinaTime(it.isoDate) ?? o.fetchedAt;
    const key =
      xmlText(it.guid).trim() ||
      xmlText(it.id).trim() ||
      link ||
      xmlText(it['rdf:about']).trim() ||
      (title || rawDate ? `${title}\u0000${rawDate.trim()}` : `content:${contentHash(body)}`);
    const fields: Record<string, string> = {};
    if (feedTitle) fields.feed = feedTitle;
    const author = clipLine(xmlText(it.creator) || xmlText(it.author));
    if (author) fields.author = author;
    const categories = Array.isArray(it.categories) ? it.categories.map((c) => htmlToLine(xmlText(c))).filter(Boolean) : [];
    if (categories.length) fields.categories = categories.join('、');
    const url = httpUrl(link, base);
    return {
      id: itemId(o.sourceId, key),
      sourceId: o.sourceId,
      kind: o.kind,
      title,
      body,
      ...(url ? { url } : {}),
      publishedAt,
      fetchedAt: o.fetchedAt,
      fields,
    };
  });
}
