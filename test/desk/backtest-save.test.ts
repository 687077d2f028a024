import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LAST_BACKTEST_FILE, readLastBacktest } from '../../src/desk/backtest-file.ts';
import { tempDir } from '../helpers/tmp.ts';

/*
 * `sentinel rules backtest` leaves its report where the desk's rules page reads it: the real
 * bin, run as the bureau's staff run it, over an empty data folder.
 */
const BIN = resolve('bin/sentinel.js');
const t = tempDir('sentinel-backtest-save-');
afterAll(() => t.cleanup());

function backtest(dataDir: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [BIN, 'rules', 'backtest', '--since', 'all', '--json', ...extra], {
    encoding: 'utf8',
    env: { ...process.env, SENTINEL_DATA: dataDir, LOG_LEVEL: 'silent' },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sentinel rules backtest --save', () => {
  it('saves the JSON report to $SENTINEL_DATA/last-backtest.json by default, stdout unchanged', () => {
    const dir = join(t.dir, 'saved');
    const r = backtest(dir);
    expect(r.code, r.err).toBe(0);
    const printed = JSON.parse(r.out);
    expect(printed).toMatchObject({ items: 0, added: [], removed: [], changed: [] });
    const saved = readLastBacktest(dir)!;
    expect(saved).toEqual({ ...printed, savedAt: expect.any(String) });
    expect(Date.parse(saved.savedAt)).not.toBeNaN();
    expect(r.err).toContain(LAST_BACKTEST_FILE);
    expect(JSON.parse(readFileSync(join(dir, LAST_BACKTEST_FILE), 'utf8')).rules).toBe(resolve('rules'));
  });

  it('writes nothing with --no-save', () => {
    const dir = join(t.dir, 'unsaved');
    const r = backtest(dir, ['--no-save']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(dir, LAST_BACKTEST_FILE))).toBe(false);
  });
});
