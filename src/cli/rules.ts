import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ItemKind, LEVELS, type ScoredItem } from '../core/types.ts';
import { DEFAULT_RULES, dataDir } from './common.ts';
import { offlineProcessor } from './toolkit.ts';
import { explainBacktest, explainEval, explainLint, explainText } from './explain.ts';
import { evaluate, parseLabelled } from '../scoring/eval.ts';
import { loadRuleSet } from '../config/rules.ts';
import { lintRuleSet } from '../scoring/lint.ts';
import { compareBacktest, parseSince, type BacktestPair } from '../scoring/backtest.ts';
import { createSegmenter } from '../text/segment.ts';
import { createStore } from '../store/factory.ts';
import { alertFor } from '../alerts/raise.ts';
import { LAST_BACKTEST_FILE, writeLastBacktest } from '../desk/backtest-file.ts';

/** Items per page when reading the store for a backtest (the store's maximum). */
const PAGE = 500;

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

  rules
    .command('eval')
    .description('precision, recall and F1 (overall and per category), the level confusion and the worst misses over a labelled JSONL file')
    .argument('<file>', 'labelled lines {id, title?, body, risk, category?, level?, kind?}')
    .option('--rules <dir>', 'rules folder', DEFAULT_RULES)
    .option('--worst <n>', 'how many worst false positives / negatives to show', '10')
    .option('--json', 'print the report as JSON', false)
    .action(async (file: string, o: { rules: string; worst: string; json: boolean }, cmd: Command) => {
      const worst = Number(o.worst);
      if (!Number.isInteger(worst) || worst < 0) cmd.error(`--worst: expected a whole number, got '${o.worst}'`, { exitCode: 2 });
      const rows = parseLabelled(readFileSync(resolve(file), 'utf8'), file);
      const { engine } = await offlineProcessor(resolve(o.rules));
      const report = evaluate(engine, rows, { worst });
      process.stdout.write((o.json ? JSON.stringify(report, null, 2) : explainEval(report)) + '\n');
    });

  rules
    .command('lint')
    .description('dead terms and groups, duplicate terms across categories, terms the segmenter would split, unreachable levels; exit 1 on errors')
    .option('--rules <dir>', 'rules folder', DEFAULT_RULES)
    .option('--json', 'print the findings as JSON', false)
    .action(async (o: { rules: string; json: boolean }) => {
      const set = await loadRuleSet(resolve(o.rules));
      // Without the user dictionary: the point is to see which terms jieba alone would cut apart.
      const bare = createSegmenter({});
      const report = lintRuleSet(set, { cut: (t) => bare.cut(t) });
      process.stdout.write((o.json ? JSON.stringify(report, null, 2) : explainLint(report)) + '\n');
      if (report.errors > 0) process.exitCode = 1;
    });

  rules
    .command('backtest')
    .description('re-score stored items with a candidate rules folder and list the alerts it would add, remove or change versus the live result')
    .option('--since <span>', 'how far back: 30d, 12h, an ISO date, or all', '30d')
    .option('--rules <dir>', 'candidate rules folder', DEFAULT_RULES)
    .addOption(new Option('--min-level <level>', 'lowest level that raises an alert').choices([...LEVELS]).default('黄'))
    .option('--json', 'print the report as JSON', false)
    .option('--save', `write the JSON report to $SENTINEL_DATA/${LAST_BACKTEST_FILE}, where the desk's rules page shows it (default)`, true)
    .option('--no-save', 'do not write the report for the desk')
    .action(async (o: { since: string; rules: string; minLevel: (typeof LEVELS)[number]; json: boolean; save: boolean }, cmd: Command) => {
      let from: Date | undefined;
      try {
        from = parseSince(o.since);
      } catch (e) {
        cmd.error((e as Error).message, { exitCode: 2 });
      }
      const { engine, process: score } = await offlineProcessor(resolve(o.rules));
      const segmenter = createSegmenter({ dictDir: join(resolve(o.rules), 'dict'), extraWords: engine.terms });
      const store = await createStore(process.env.SENTINEL_STORE, join(dataDir(), 'sentinel.db'), (t) => segmenter.cut(t));
      try {
        const pairs: BacktestPair[] = [];
        for (let offset = 0; ; offset += PAGE) {
          const page = await store.searchItems({ ...(from ? { from: from.toISOString() } : {}), limit: PAGE, offset });
          for (const item of page.items) pairs.push(rescore(item, score, o.minLevel));
          if (page.items.length < PAGE || offset + PAGE >= page.total) break;
        }
        const report = { since: from?.toISOString() ?? null, rules: resolve(o.rules), ...compareBacktest(pairs) };
        process.stdout.write((o.json ? JSON.stringify(report, null, 2) : explainBacktest(report)) + '\n');
        if (o.save) {
          const file = writeLastBacktest(dataDir(), report);
          // stderr, so `--json` output on stdout stays one clean document
          process.stderr.write(`saved for the duty desk: ${file}\n`);
        }
      } finally {
        await store.close();
      }
    });
}

/** The live alert (from the stored score) beside the candidate's, for one stored item. */
function rescore(item: ScoredItem, score: (raw: ScoredItem) => ScoredItem, minLevel: (typeof LEVELS)[number]): BacktestPair {
  const candidate = score(item);
  const best = candidate.explanation.filter((e) => e.rule && (e.level ?? null) !== null).sort((a, b) => b.score - a.score)[0]
    ?? [...candidate.explanation].sort((a, b) => Number(b['potential'] ?? 0) - Number(a['potential'] ?? 0))[0];
  return {
    item,
    live: alertFor(item, minLevel),
    candidate: alertFor(candidate, minLevel),
    ...(best ? { reason: `${best.rule}: ${best.reason}` } : {}),
  };
}
