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
    .action(async (target: string, o: { type?: string; allowPrivate: boolean }) => {
      const source = adhocSource(target, o.type);
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
