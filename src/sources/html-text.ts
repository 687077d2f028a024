import * as cheerio from 'cheerio';

/** Longer bodies are cut: nothing a duty officer reads is longer, and scoring cost grows with length. */
export const MAX_BODY_CHARS = 100_000;

const BLOCKS = 'p,div,li,ul,ol,h1,h2,h3,h4,h5,h6,tr,table,blockquote,section,article,header,footer,pre';

/**
 * Plain text of an HTML fragment (feed descriptions, CDATA titles): tags gone, entities decoded,
 * block boundaries kept as line breaks so sentences from different paragraphs do not run together.
 */
export function htmlToText(html: string): string {
  if (!html) return '';
  if (!/[<&]/.test(html)) return tidy(html);
  const $ = cheerio.load(html, null, false);
  $('script,style,noscript,iframe,object').remove();
  $('br').replaceWith('\n');
  $(BLOCKS).each((_, el) => {
    $(el).prepend('\n').append('\n');
  });
  return tidy($.root().text());
}

/** One-line text, for titles. */
export function htmlToLine(html: string): string {
  return htmlToText(html).replace(/\s*\n\s*/g, ' ').trim();
}

function tidy(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[\t\f\v \u00a0]+/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}
