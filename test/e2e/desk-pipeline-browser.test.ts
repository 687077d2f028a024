import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import pino from 'pino';
import { startPipeline, dataFile, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { Accounts } from '../../src/auth/accounts.ts';
import { acquireDatabase, releaseDatabase } from '../../src/store/sqlite-db.ts';
import { browserAvailable, launch, screenshotPath } from './browser.ts';
import { tempDir } from '../helpers/tmp.ts';

/*
 * What a duty officer sees after `npm start`: the default pipeline over the bundled samples,
 * the desk in Chromium — the alert list of the real samples and the health of every source.
 */
describe.skipIf(!browserAvailable())('the demo pipeline in Chromium', () => {
  const t = tempDir('sentinel-demo-e2e-');
  let running: RunningPipeline;
  let browser: Awaited<ReturnType<typeof launch>>;
  const PASSWORD = 'duty-officer-2026';

  beforeAll(async () => {
    running = await startPipeline({ pipelineFile: resolve('pipelines/default.yaml'), dataDir: t.dir, port: 0, log: pino({ level: 'silent' }), demoAccount: false });
    const db = acquireDatabase(dataFile(t.dir));
    await new Accounts(db).addUser('值班员李华', 'officer', undefined, PASSWORD);
    releaseDatabase(db);
    await running.pollAll();
    await running.drained();
    browser = await launch();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    t.cleanup();
  });

  it('logs in, lists the samples\' alerts with red ones first in colour, and shows every source healthy', async () => {
    const p = await browser.context.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(`${running.deskUrl}/`);
    await p.waitForURL(/\/login/);
    await p.fill('#name', '值班员李华');
    await p.fill('#password', PASSWORD);
    await p.click('#submit');
    await p.waitForURL(`${running.deskUrl}/`);
    await p.waitForSelector('#alerts .row-title');
    const total = (await running.store.stats()).alerts.total;
    expect(total).toBeGreaterThan(50);
    await p.screenshot({ path: screenshotPath('demo-desk.png') });

    await p.goto(`${running.deskUrl}/sources`);
    await p.waitForSelector('#sources table');
    const rows = await p.$$eval('#sources tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent)));
    expect(rows.map((r) => r[0]).sort()).toEqual(['hotline-12315', 'jx-news', 'jx-samr-sampling', 'yudu-gov']);
    for (const r of rows) expect(r[2]).toBe('正常');
    expect(rows.find((r) => r[0] === 'hotline-12315')![5]).toBe('231');
    await p.screenshot({ path: screenshotPath('sources.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
