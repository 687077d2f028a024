import { Command, Option } from 'commander';
import { adhocSource } from '../sources/registry.ts';
import { writeLine } from './common.ts';

export function registerFetch(program: Command): void {
  program
    .command('fetch')
    .description('dry run of one source: print the items it would ingest as JSON lines (nothing stored)')
    .argument('<target>', 'feed or page URL, or a file path')
    .addOption(new Option('--type <type>', 'source type (guessed from the target when omitted)').choices(['rss', 'html', 'hotline']))
    .option('--allow-private', 'allow loopback and private addresses (refused by default)', false)
    .option('--list <selector>', 'html: CSS selector of one list item')
    .option('--title <selector>', 'html: title selector within an item (default a)')
    .option('--link <selector>', 'html: link selector within an item')
    .option('--date <selector>', 'html: date selector within an item')
    .option('--date-format <format>', 'html: date format, e.g. YYYY-MM-DD')
    .option('--next <selector>', 'html: next-page link selector')
    .option('--article <selector>', 'html / rss: fetch each item page and take its main text (selector, or "auto")')
    .action(async (target: string, o: { type?: string; allowPrivate: boolean; list?: string; title?: string; link?: string; date?: string; dateFormat?: string; next?: string; article?: string }) => {
      const html: Record<string, unknown> = {};
      for (const k of ['list', 'title', 'link', 'date', 'dateFormat', 'next'] as const) if (o[k] !== undefined) html[k] = o[k];
      if (o.article !== undefined) {
        if (o.type === 'html' || html.list !== undefined) html.article = o.article === 'auto' ? true : o.article;
        else html.fullText = o.article === 'auto' ? {} : { selector: o.article };
      }
      const source = adhocSource(target, o.type, html);
      const items = await source.poll({
        signal: AbortSignal.timeout(60_000),
        now: () => new Date(),
        baseDir: process.cwd(),
        allowPrivate: o.allowPrivate,
      });
      for (const it of items) writeLine(it);
      process.stderr.write(`sentinel fetch: ${items.length} items from ${target}\n`);
    });
}
