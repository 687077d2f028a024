import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { createStore } from '../store/factory.ts';
import { createSegmenter } from '../text/segment.ts';
import { loadTrendRules } from '../config/trends.ts';
import { DAY, buildBriefing, renderBriefingHtml, renderBriefingMarkdown, yesterday } from '../desk/briefing.ts';
import { DEFAULT_RULES, EXIT_USAGE } from './common.ts';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('食品安全舆情日报: the daily briefing for a day or a range, from the store (same as the desk shows)')
    .option('--day <YYYY-MM-DD>', 'the (first) day, Beijing time; default yesterday')
    .option('--to <YYYY-MM-DD>', 'last day of a range')
    .addOption(new Option('--format <format>', 'html or md').choices(['html', 'md']).default('html'))
    .option('--region <code>', 'narrow to one region (GB/T 2260 code)')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--rules <dir>', 'rules folder (for rules/trends)', DEFAULT_RULES)
    .action(async (o: { day?: string; to?: string; format: 'html' | 'md'; region?: string; out?: string; rules: string }, cmd: Command) => {
      const day = o.day ?? yesterday();
      if (!DAY.test(day) || Number.isNaN(Date.parse(day))) cmd.error(`--day expects YYYY-MM-DD, got '${day}'`, { exitCode: EXIT_USAGE });
      if (o.to && (!DAY.test(o.to) || o.to < day)) cmd.error(`--to expects a day (YYYY-MM-DD) on or after --day, got '${o.to}'`, { exitCode: EXIT_USAGE });
      if (o.region && !/^\d{6}$/.test(o.region)) cmd.error(`--region expects a 6-digit GB/T 2260 code, got '${o.region}'`, { exitCode: EXIT_USAGE });
      const segmenter = createSegmenter({ dictDir: join(o.rules, 'dict') });
      const store = await createStore(process.env.SENTINEL_STORE, join(process.env.SENTINEL_DATA || 'data', 'sentinel.db'), (t) => segmenter.cut(t));
      try {
        const b = await buildBriefing(store, { day, toDay: o.to, region: o.region, rules: loadTrendRules(join(o.rules, 'trends')) });
        const text = o.format === 'md' ? renderBriefingMarkdown(b) : renderBriefingHtml(b, { standalone: true });
        if (o.out) {
          writeFileSync(o.out, text);
          process.stderr.write(`已生成 ${o.out}\n`);
        } else process.stdout.write(text);
      } finally {
        await store.close();
      }
    });
}
