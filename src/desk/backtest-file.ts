import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BacktestReport } from '../scoring/backtest.ts';

/** The file `sentinel rules backtest` leaves in SENTINEL_DATA for the rules page. */
export const LAST_BACKTEST_FILE = 'last-backtest.json';

/** What is saved: the CLI's JSON report plus when it was made. */
export type SavedBacktest = BacktestReport & { since: string | null; rules: string; savedAt: string };

/** Writes the report next to the database; through a temp file, so the desk never reads half a report. */
export function writeLastBacktest(dataDir: string, report: Omit<SavedBacktest, 'savedAt'>, now = new Date()): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LAST_BACKTEST_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...report, savedAt: now.toISOString() }, null, 2) + '\n', 'utf8');
  renameSync(tmp, file);
  return file;
}

/**
 * The last saved report, or null when no backtest has been saved yet. A file that is there but
 * unreadable throws, naming the file: the admin must see that, not an empty page.
 */
export function readLastBacktest(dataDir: string): SavedBacktest | null {
  const file = join(dataDir, LAST_BACKTEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const data = JSON.parse(text) as SavedBacktest;
    if (typeof data !== 'object' || data === null || !Array.isArray(data.added) || !Array.isArray(data.removed) || !Array.isArray(data.changed)) {
      throw new Error('not a backtest report (added / removed / changed missing)');
    }
    return data;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}
