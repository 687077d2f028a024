import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { startPipeline, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { itemId } from '../../src/core/ids.ts';
import type { Alert, ScoredItem } from '../../src/core/types.ts';
import { tempDir } from '../helpers/tmp.ts';
import { Accounts } from '../../src/auth/accounts.ts';
import { acquireDatabase, releaseDatabase } from '../../src/store/sqlite-db.ts';
import { dataFile } from '../../src/pipeline/runner.ts';

/**
 * The default pipeline, run in-process over the bundled samples exactly as `npm start` runs it,
 * judged against pipelines/samples/truth.json (a duty officer's verdict on every sample item,
 * written with the samples and never read by the rules).
 */
interface Truth {
  file: string;
  key: string;
  title: string;
  risk: boolean;
  category: string | null;
  severity: 'high' | 'medium' | 'low' | null;
}

const PIPELINE = resolve('pipelines/default.yaml');
const truth = JSON.parse(readFileSync(resolve('pipelines/samples/truth.json'), 'utf8')) as Truth[];
const log = pino({ level: 'silent' });

describe('default pipeline end to end', () => {
  const t = tempDir('sentinel-e2e-');
  let running: RunningPipeline;
  let alerts: Alert[];
  let items: ScoredItem[];
  const sourceOfFile = new Map<string, string>();
  let token = '';
  const auth = () => ({ authorization: `Bearer ${token}` });
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(running.deskUrl + path, { headers: auth() });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const start = () =>
    startPipeline({ pipelineFile: PIPELINE, dataDir: t.dir, port: 0, host: '127.0.0.1', log, demoAccount: false });

  beforeAll(async () => {
    running = await start();
    const db = acquireDatabase(dataFile(t.dir));
    token = (await new Accounts(db).createToken('e2e', 'officer')).token;
    releaseDatabase(db);
    await running.pollAll();
    await running.drained();
    const a = await get<{ total: number; items: Alert[] }>('/api/v1/alerts?limit=500');
    const i = await get<{ total: number; items: ScoredItem[] }>('/api/v1/items?limit=500');
    alerts = a.items;
    items = i.items;
    expect(a.total).toBe(alerts.length);
    expect(i.total).toBe(items.length);
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    t.cleanup();
  });

  // Which source read which sample file: from the pipeline's own source list.
  const idFor = (row: Truth) => {
    if (!sourceOfFile.size) {
      const cfg = readFileSync(PIPELINE, 'utf8');
      for (const m of cfg.matchAll(/- id: (\S+)[\s\S]*?(?:url|path): samples\/(\S+)/g)) sourceOfFile.set(m[2]!, m[1]!);
    }
    const source = sourceOfFile.get(row.file);
    if (!source) throw new Error(`truth.json names ${row.file}, which no source of default.yaml reads`);
    return itemId(source, row.key);
  };

  it('ingests every sample item exactly once', () => {
    expect(items.length).toBe(truth.length);
    const ids = new Set(items.map((i) => i.id));
    const missing = truth.filter((r) => !ids.has(idFor(r)));
    expect(missing.map((r) => `${r.file}:${r.key}`)).toEqual([]);
  });

  it('raises an alert for the serious risks in the samples', () => {
    const alerted = new Set(alerts.flatMap((a) => a.itemIds));
    const high = truth.filter((r) => r.risk && r.severity === 'high');
    const missed = high.filter((r) => !alerted.has(idFor(r)));
    expect(high.length).toBeGreaterThan(10);
    // every serious incident in the samples must reach the desk
    expect(missed.map((r) => r.title)).toEqual([]);
  });

  it('finds most real risks of every severity and keeps noise off the desk', () => {
    const alerted = new Set(alerts.flatMap((a) => a.itemIds));
    const risky = truth.filter((r) => r.risk && r.severity !== 'low');
    const noise = truth.filter((r) => !r.risk);
    const found = risky.filter((r) => alerted.has(idFor(r))).length;
    const falseAlarms = noise.filter((r) => alerted.has(idFor(r)));
    expect(found / risky.length).toBeGreaterThanOrEqual(0.85);
    expect(falseAlarms.length / noise.length).toBeLessThanOrEqual(0.05);
  });

  it('gives alerts a level, a category from the taxonomy and, for hotline records, their region', () => {
    for (const a of alerts) {
      expect(['红', '橙', '黄']).toContain(a.level);
      expect(a.category).toBeTruthy();
    }
    const complaints = items.filter((i) => i.kind === 'complaint');
    expect(complaints.length).toBeGreaterThan(200);
    const withRegion = complaints.filter((i) => i.regions.length > 0).length;
    expect(withRegion / complaints.length).toBeGreaterThan(0.95);
    expect(alerts.filter((a) => a.region.startsWith('36')).length).toBeGreaterThan(alerts.length / 2);
  });

  it('answers the desk API filters over the real data', async () => {
    const red = await get<{ total: number; items: Alert[] }>('/api/v1/alerts?level=红');
    expect(red.items.every((a) => a.level === '红')).toBe(true);
    const province = await get<{ total: number }>('/api/v1/alerts?region=360000');
    expect(province.total).toBeGreaterThan(0);
    const complaints = await get<{ total: number; items: ScoredItem[] }>('/api/v1/items?kind=complaint&risk=true&limit=5');
    expect(complaints.items.every((i) => i.kind === 'complaint' && i.risk)).toBe(true);
    const search = await get<{ total: number; items: Alert[] }>(`/api/v1/alerts?q=${encodeURIComponent('食堂')}`);
    expect(search.total).toBeGreaterThan(0);
    const health = await fetch(running.deskUrl + '/healthz');
    expect(health.status).toBe(200);
    const anonymous = await fetch(running.deskUrl + '/api/v1/alerts');
    expect(anonymous.status).toBe(401);
    const login = await fetch(running.deskUrl + '/login');
    expect(await login.text()).toContain('食安哨兵');
    const metrics = await fetch(running.deskUrl + '/metrics', { headers: auth() });
    expect(await metrics.text()).toMatch(/sentinel_source_polls_total\{source="hotline-12315",outcome="ok"\}/);
  });

  it('a restart ingests nothing twice: the same items and alerts', async () => {
    const before = await running.store.stats();
    await running.stop();
    running = await start();
    await running.pollAll();
    await running.drained();
    const after = await running.store.stats();
    expect(after.items.total).toBe(before.items.total);
    expect(after.alerts.total).toBe(before.alerts.total);
    expect(after.alerts.byLevel).toEqual(before.alerts.byLevel);
    const statuses = running.sourceStatuses();
    expect(statuses.every((s) => s.lastError === null)).toBe(true);
    expect(statuses.reduce((n, s) => n + s.duplicate, 0)).toBeGreaterThanOrEqual(truth.length);
  }, 60_000);
});
