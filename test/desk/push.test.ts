import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { startPipeline, dataFile, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { Accounts } from '../../src/auth/accounts.ts';
import { acquireDatabase, releaseDatabase } from '../../src/store/sqlite-db.ts';
import { buildDesk } from '../../src/desk/server.ts';
import { MemoryStore } from './memory-store.ts';
import { tempDir } from '../helpers/tmp.ts';
import { itemId } from '../../src/core/ids.ts';

const record = (n: number, over: Record<string, unknown> = {}) => ({
  登记编号: `36073120261129${String(n).padStart(5, '0')}`,
  登记时间: '2026-11-29 08:15:00',
  渠道: '12345转办',
  诉求类型: '投诉',
  被投诉主体: { 名称: '于都县某快餐店', 地址: '于都县贡江镇长征大道' },
  所属区域: '360731',
  诉求内容: '中午在这家快餐店吃了盒饭，一家三口都上吐下泻，去医院挂了水，怀疑饭菜变质，请查处。',
  投诉人: '张三丰',
  联系电话: '13812345678',
  ...over,
});

describe('push API: POST /api/v1/complaints', () => {
  const t = tempDir('sentinel-push-');
  let running: RunningPipeline;
  let pushToken = '';
  let officerToken = '';
  const post = (body: unknown, token = pushToken, raw?: string) =>
    fetch(`${running.deskUrl}/api/v1/complaints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: raw ?? JSON.stringify(body),
    });

  beforeAll(async () => {
    const pipeline = join(t.dir, 'p.yaml');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(t.dir, 'drops'));
    writeFileSync(pipeline, `name: push\nrules: ${resolve('rules')}\nsources:\n  - id: drops\n    type: hotline\n    path: drops\n`);
    running = await startPipeline({ pipelineFile: pipeline, dataDir: join(t.dir, 'data'), port: 0, log: pino({ level: 'silent' }), demoAccount: false });
    const db = acquireDatabase(dataFile(join(t.dir, 'data')));
    const accounts = new Accounts(db);
    pushToken = accounts.createToken('yudu-12345', 'push').token;
    officerToken = accounts.createToken('duty', 'officer').token;
    releaseDatabase(db);
  });
  afterAll(async () => {
    await running.stop();
    t.cleanup();
  });

  it('refuses a caller without a token (401) and a token that may not push (403)', async () => {
    expect((await post(record(1), '')).status).toBe(401);
    expect((await post(record(1), officerToken)).status).toBe(403);
  });

  it('accepts a record once it is on the bus; a retry is a duplicate, never a second item', async () => {
    const first = await post(record(1));
    expect(first.status).toBe(200);
    const a = await first.json();
    expect(a).toMatchObject({ accepted: 1, new: 1, duplicates: 0, records: [{ 登记编号: '3607312026112900001', duplicate: false }] });
    const again = await (await post(record(1))).json();
    expect(again).toMatchObject({ accepted: 1, new: 0, duplicates: 1, records: [{ duplicate: true }] });
    await running.drained();
    const item = await running.store.getItem(a.records[0].id);
    expect(item).toMatchObject({ sourceId: 'push-yudu-12345', kind: 'complaint', regions: ['360731'] });
    expect(item!.fields['投诉人']).toBe('张**');
    expect(item!.fields['联系电话']).toBe('138****5678');
    expect(item!.fields['被投诉主体.名称']).toBe('于都县某快餐店');
    expect(item!.risk).toBe(true);
    const page = await running.store.searchItems({ source: ['push-yudu-12345'], limit: 10, offset: 0 });
    expect(page.total).toBe(1);
  });

  it('takes a batch as an array or {records}; a bad record refuses the batch with its field path', async () => {
    const ok = await post({ records: [record(2), record(3)] });
    expect((await ok.json()).new).toBe(2);
    const bad = await post({ records: [record(4), record(5, { 登记时间: '昨天下午' }), record(6, { 诉求类型: '表扬', 备注: 'x' })] });
    expect(bad.status).toBe(400);
    const body = await bad.json();
    const paths = body.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain('records[2].诉求类型');
    expect(paths).toContain('records[2]');
    expect(body.issues.find((i: { path: string }) => i.path === 'records[2]').message).toMatch(/unknown field '备注'/);
    const badTime = await post([record(7), record(8, { 登记时间: '昨天下午' })]);
    expect(badTime.status).toBe(400);
    expect((await badTime.json()).issues).toEqual([{ path: '[1].登记时间', message: expect.stringMatching(/not a time/) }]);
    // nothing of a refused batch was accepted
    await running.drained();
    expect(await running.store.getItem(itemId('push-yudu-12345', record(4).登记编号))).toBeNull();
    expect(await running.store.getItem(itemId('push-yudu-12345', record(7).登记编号))).toBeNull();
  });

  it('invalid JSON is a 400, a missing field names itself', async () => {
    const r = await post(null, pushToken, '{"登记编号": ');
    expect(r.status).toBe(400);
    const missing = await post({ 登记编号: 'X1', 登记时间: '2026-11-29 08:00:00' });
    expect(missing.status).toBe(400);
    expect((await missing.json()).issues).toEqual([{ path: '诉求内容', message: expect.stringMatching(/required/) }]);
  });

  it('a body over the limit is a 413', async () => {
    const huge = record(9, { 诉求内容: '很'.repeat(20_000) });
    const r = await post(Array.from({ length: 120 }, (_, i) => ({ ...huge, 登记编号: `big-${i}` })));
    expect(r.status).toBe(413);
  });
});

describe('push API limits and failures', () => {
  const deps = (over: Record<string, unknown>) => ({
    store: new MemoryStore(() => new Date()),
    health: async () => ({ store: 'ok' }),
    accounts: undefined as unknown as Accounts,
    ...over,
  });
  let token = '';
  let accounts: Accounts;
  beforeAll(() => {
    const t = tempDir();
    const db = acquireDatabase(join(t.dir, 'a.db'));
    accounts = new Accounts(db);
    token = accounts.createToken('sender', 'push').token;
  });

  it('answers 429 with Retry-After when a sender floods, before anything reaches the bus', async () => {
    let ingested = 0;
    const ingestComplaints = async () => (ingested++, { fresh: 1, duplicates: 0, freshIds: [] });
    const app = buildDesk(deps({ accounts, pushRate: { max: 2, windowMs: 60_000 }, ingestComplaints }) as never);
    const send = () => app.inject({ method: 'POST', url: '/api/v1/complaints', headers: { authorization: `Bearer ${token}` }, payload: record(1) });
    expect((await send()).statusCode).toBe(200);
    expect((await send()).statusCode).toBe(200);
    const third = await send();
    expect(third.statusCode).toBe(429);
    const wait = Number(third.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(third.json()).toEqual({ error: 'too many requests', retryAfterSeconds: wait });
    expect(ingested).toBe(2);
  });

  it('answers 503 (never a success) when the records could not be stored', async () => {
    const app = buildDesk(deps({ accounts, ingestComplaints: async () => { throw new Error('SQLITE_FULL: database or disk is full'); } }) as never);
    const r = await app.inject({ method: 'POST', url: '/api/v1/complaints', headers: { authorization: `Bearer ${token}` }, payload: record(1) });
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('30');
    expect(r.json().error).not.toMatch(/SQLITE/);
  });
});
