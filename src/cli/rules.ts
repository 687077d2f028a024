import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ItemKind } from '../core/types.ts';
import { DEFAULT_RULES } from './common.ts';
import { offlineProcessor } from './toolkit.ts';
import { explainText } from './explain.ts';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('tools for the people who write rules/');

  rules
    .command('test')
    .description('score one text against the rules and show the hits, the score, the level and why')
    .argument('[text]', 'the text (or use --file)')
    .option('--file <file>', 'read the text from a file')
    .option('--title <title>', 'a title scored with the text', '')
    .addOption(new Option('--kind <kind>', 'item kind').choices(ItemKind.options).default('news'))
    .option('--rules <dir>', 'rules folder', DEFAULT_RULES)
    .option('--json', 'print the full result as JSON', false)
    .action(async (text: string | undefined, o: { file?: string; title: string; kind: ItemKind; rules: string; json: boolean }, cmd: Command) => {
      if (!text && !o.file) cmd.error('rules test needs a text argument or --file FILE', { exitCode: 2 });
      if (text && o.file) cmd.error('give either a text argument or --file, not both', { exitCode: 2 });
      const body = o.file ? readFileSync(o.file, 'utf8') : text!;
      const { process: score } = await offlineProcessor(resolve(o.rules));
      const now = new Date().toISOString();
      const s = score({ id: 'cli', sourceId: 'cli', kind: o.kind, title: o.title, body, publishedAt: now, fetchedAt: now, fields: {} });
      if (o.json) {
        process.stdout.write(JSON.stringify({ risk: s.risk, level: s.level, category: s.category, score: s.score, regions: s.regions, hits: s.hits, explanation: s.explanation }, null, 2) + '\n');
        return;
      }
      process.stdout.write(explainText(s) + '\n');
    });
}
