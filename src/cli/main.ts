import { Command, CommanderError } from 'commander';
import { registerRun } from './run.ts';
import { registerScore } from './score.ts';
import { registerFetch } from './fetch.ts';
import { registerIngest } from './ingest.ts';
import { registerStats } from './stats.ts';
import { registerRules } from './rules.ts';
import { registerUsers } from './users.ts';
import { registerReport } from './report.ts';

import { EXIT_USAGE } from './common.ts';

export function buildProgram(): Command {
  const program = new Command('sentinel')
    .description('食安哨兵 Food Safety Sentinel — food-safety signal monitoring for a duty desk')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRun(program);
  registerScore(program);
  registerFetch(program);
  registerIngest(program);
  registerStats(program);
  registerRules(program);
  registerUsers(program);
  registerReport(program);
  // subcommands inherit exit handling so their usage errors also exit 2
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.exit(0);
      }
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`sentinel: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

await main(process.argv);
