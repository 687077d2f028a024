import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildDesk } from '../../src/desk/server.ts';
import type { DeskDeps } from '../../src/desk/server.ts';
import type { ScoredItem } from '../../src/core/types.ts';
import type { Accounts } from '../../src/auth/accounts.ts';
import { loadRuleEngine, type RuleEngine } from '../../src/scoring/engine.ts';
import { runRuleFileTests } from '../../src/scoring/rule-tests.ts';
import { offlineProcessor } from '../../src/cli/toolkit.ts';
import { countRuleHits, scoreTextWith } from '../../src/desk/rules.ts';
import { LAST_BACKTEST_FILE, readLastBacktest, writeLastBacktest } from '../../src/desk/backtest-file.ts';
import { MemoryStore } from './memory-store.ts';
import { ALERTS, ITEMS, canteenNews } from './fixtures.ts';
import { PASSWORDS, login, seedAccounts, type Client } from './auth-helpers.ts';
import { tempDir } from '../helpers/tmp.ts';

/*
 * The rules page's API over the bundled rules/: the live rules with their hits over 7 days and
 * their own `tests:` results, scoring pasted text with the full explanation, and the last
 * `sentinel rules backtest` read from the data folder.
 */
const NOW = new Date('2026-11-29T04:00:00.000Z');
const t = tempDir('sentinel-desk-rules-');
let engine: RuleEngine;
let score: DeskDeps['scoreText'];
let store: MemoryStore;
let accounts: Accounts;
let app: FastifyInstance;

beforeAll(async () => {
  const off = await offlineProcessor(resolve('rules'));
  engine = off.engine;
  score = scoreTextWith(off.process, () => NOW);
});
afterAll(() => t.cleanup());

/** An item the scorer matched under `rule`, published `daysAgo` before NOW. */
function hitItem(id: string, rule: string, daysAgo: number, matched = true): ScoredItem {
  return {
    ...canteenNews,
    id,
    publishedAt: new Date(NOW.getTime() - daysAgo * 86_400_000).toISOString(),
    risk: true,
    explanation: [{ rule, name: rule, category: '测试', matched, score: matched ? 10 : 0, level: matched ? '橙' : null, reason: '测试' }],
  };
}

function deps(over: Partial<DeskDeps> = {}): DeskDeps {
  return { store, accounts, health: async () => ({ store: 'ok' }), now: () => NOW, ruleEngine: () => engine, scoreText: score, ...over };
}

beforeEach(async () => {
  store = new MemoryStore(() => NOW);
  await store.upsertItems([
    ...ITEMS,
    hitItem('h1', 'school-food-safety', 1),
    hitItem('h2', 'school-food-safety', 6.5),
    hitItem('h3', 'school-food-safety', 8), // outside the 7 days
    hitItem('h4', 'catering-service', 2),
    hitItem('h5', 'catering-service', 2, false), // seen, but the rule did not match
  ]);
  await store.upsertAlerts(ALERTS);
  accounts = await seedAccounts({ now: () => NOW });
  app = buildDesk(deps());
});
afterEach(async () => {
  await app.close();
});

const as = (name: keyof typeof PASSWORDS): Promise<Client> =>
  login(() => app, { officer: '张敏', county: '东湖区局', admin: 'admin' }[name], PASSWORDS[name]);

interface RuleRow {
  id: string;
  name: string;
  category: string;
  file: string;
  levels: Record<string, number>;
  hits: number;
  tests: { total: number; passed: number; cases: { ok: boolean; text: string; reason?: string; actual: { level: string | null } }[] };
}

describe('GET /api/v1/rules', () => {
  it('lists every live rule with its category, levels and hits over the last 7 days', async () => {
    const officer = await as('officer');
    const r = await officer.get('/api/v1/rules');
    expect(r.statusCode).toBe(200);
    const body = r.json() as { rules: RuleRow[]; window: { days: number; scanned: number; capped: boolean }; loadedAt: string };
    expect(body.rules.map((x) => x.id)).toEqual(engine.rules.map((x) => x.id));
    const school = body.rules.find((x) => x.id === 'school-food-safety')!;
    expect(school).toMatchObject({ name: '校园食品安全', file: 'risk/school.yaml', hits: 2 });
    expect(Object.keys(school.levels)).toContain('红');
    expect(body.rules.find((x) => x.id === 'catering-service')!.hits).toBe(1);
    expect(body.rules.find((x) => x.id === 'grain')!.hits).toBe(0);
    expect(body.window).toMatchObject({ days: 7, capped: false });
    expect(body.loadedAt).toBe(engine.loadedAt);
  });

  it('runs every rule file test on the live engine and reports each case', async () => {
    const admin = await as('admin');
    const body = (await admin.get('/api/v1/rules')).json() as { rules: RuleRow[]; tests: { total: number; passed: number } };
    const expected = runRuleFileTests(engine);
    expect(body.tests).toEqual({ total: expected.length, passed: expected.filter((x) => x.ok).length });
    const school = body.rules.find((x) => x.id === 'school-food-safety')!;
    expect(school.tests.total).toBe(expected.filter((x) => x.rule === 'school-food-safety').length);
    expect(school.tests.cases[0]).toMatchObject({ ok: true, actual: { level: '红' } });
    expect(school.tests.cases[0]!.text).toContain('学校食堂');
  });

  it('shows a failing case with the rule’s reason when a rule file’s test no longer holds', async () => {
    const dir = join(t.dir, 'rules-broken');
    cpSync(resolve('rules'), dir, { recursive: true });
    const file = join(dir, 'risk', 'school.yaml');
    // the bureau raises the bar for 红 past anything the first case scores
    writeFileSync(file, readFileSync(file, 'utf8').replace(/expect: \{ match: true, level: 红 \}/, 'expect: { match: true, level: 蓝 }'));
    const broken = await loadRuleEngine(dir);
    app = buildDesk(deps({ ruleEngine: () => broken }));
    const body = (await (await as('officer')).get('/api/v1/rules')).json() as { rules: RuleRow[]; tests: { total: number; passed: number } };
    expect(body.tests.total - body.tests.passed).toBe(1);
    const school = body.rules.find((x) => x.id === 'school-food-safety')!;
    const failed = school.tests.cases.filter((c) => !c.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.actual.level).toBe('红');
    expect(failed[0]!.reason).toBeTruthy();
  });

  it('follows a reload: the page reads the engine through the getter', async () => {
    let current = engine;
    app = buildDesk(deps({ ruleEngine: () => current }));
    const officer = await as('officer');
    const before = (await officer.get('/api/v1/rules')).json().loadedAt;
    current = await loadRuleEngine(resolve('rules'), { now: () => new Date(NOW.getTime() + 1000) });
    const after = (await officer.get('/api/v1/rules')).json().loadedAt;
    expect(after).toBe(current.loadedAt);
    expect(after).not.toBe(before);
  });

  it('is for the province only; a county user gets 403 on the page and every rules route', async () => {
    const county = await as('county');
    expect((await county.get('/api/v1/rules')).statusCode).toBe(403);
    expect((await county.get('/api/v1/rules/backtest')).statusCode).toBe(403);
    expect((await county.post('/api/v1/rules/score', { text: '学校食堂呕吐' })).statusCode).toBe(403);
    expect((await county.get('/rules')).statusCode).toBe(403);
    const officer = await as('officer');
    const page = await officer.get('/rules');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('研判规则');
  });

  it('is 501 when the process has no rule engine', async () => {
    app = buildDesk(deps({ ruleEngine: undefined }));
    expect((await (await as('officer')).get('/api/v1/rules')).statusCode).toBe(501);
  });
});

describe('countRuleHits', () => {
  it('counts an item once per matched rule, within the window', async () => {
    const h = await countRuleHits(store, { from: new Date(NOW.getTime() - 7 * 86_400_000), to: NOW });
    // h1 and h2 (h3 is 8 days old), h4 (h5 saw the rule but did not match), and the canteen fixture's own rule
    expect(h.byRule).toEqual({ 'school-food-safety': 2, 'catering-service': 1, 'school-canteen': 1 });
  });

  it('says when it stopped at the cap: the counts are then a lower bound', async () => {
    const h = await countRuleHits(store, { from: new Date(NOW.getTime() - 7 * 86_400_000), to: NOW, cap: 2 });
    expect(h).toMatchObject({ scanned: 2, capped: true });
  });
});

describe('POST /api/v1/rules/score', () => {
  it('scores pasted text against the live rules with the hits and the full explanation', async () => {
    const officer = await as('officer');
    const r = await officer.post('/api/v1/rules/score', {
      title: '某小学食堂午餐后多名学生呕吐',
      text: '南昌市东湖区某小学数十名学生在学校食堂用餐后出现呕吐、腹泻症状，已送医院治疗。',
    });
    expect(r.statusCode).toBe(200);
    const s = r.json() as { risk: boolean; level: string; category: string; text: string; hits: { term: string; start: number; end: number }[]; explanation: { rule: string; matched: boolean; reason: string; groups: unknown[] }[]; regions: { code: string; name: string }[] };
    expect(s).toMatchObject({ risk: true, category: '校园食品安全' });
    expect(['红', '橙']).toContain(s.level);
    expect(s.regions[0]).toEqual({ code: '360102', name: '江西省南昌市东湖区' });
    // offsets point into the returned text, so the page can highlight them
    expect(s.hits.length).toBeGreaterThan(2);
    for (const h of s.hits) expect(s.text.slice(h.start, h.end).toLowerCase()).toBe(h.term.toLowerCase());
    const school = s.explanation.find((e) => e.rule === 'school-food-safety')!;
    expect(school.matched).toBe(true);
    expect(school.reason).toBeTruthy();
    expect(school.groups.length).toBeGreaterThan(0);
  });

  it('counts a complaint differently from news, as the process stage does', async () => {
    const officer = await as('officer');
    const text = '孩子在学校食堂吃饭时吃出一只虫子，饭菜还有馊味，希望监管部门查一查。';
    const news = (await officer.post('/api/v1/rules/score', { text, kind: 'news' })).json();
    const complaint = (await officer.post('/api/v1/rules/score', { text, kind: 'complaint' })).json();
    expect(complaint.score).not.toBe(news.score);
    expect(complaint.level).toBe('黄');
  });

  it('says what is wrong with the request', async () => {
    const officer = await as('officer');
    const empty = await officer.post('/api/v1/rules/score', { text: '   ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().issues[0].path).toBe('text');
    const kind = await officer.post('/api/v1/rules/score', { text: '过期牛奶', kind: 'weibo' });
    expect(kind.json().issues[0].path).toBe('kind');
    const extra = await officer.post('/api/v1/rules/score', { text: '过期牛奶', url: 'http://x' });
    expect(extra.statusCode).toBe(400);
  });

  it('needs the CSRF token like every POST', async () => {
    const officer = await as('officer');
    const r = await app.inject({ method: 'POST', url: '/api/v1/rules/score', headers: { cookie: officer.cookie }, payload: { text: '过期牛奶' } });
    expect(r.statusCode).toBe(403);
  });

  it('is 501 when the process cannot score', async () => {
    app = buildDesk(deps({ scoreText: undefined }));
    expect((await (await as('officer')).post('/api/v1/rules/score', { text: '过期牛奶' })).statusCode).toBe(501);
  });
});

describe('GET /api/v1/rules/backtest', () => {
  const report = {
    since: '2026-10-30T04:00:00.000Z',
    rules: '/srv/sentinel/rules-candidate',
    items: 120,
    liveAlerts: 14,
    candidateAlerts: 13,
    added: [],
    removed: [{ itemId: 'i-1', title: '养生馆推销保健品称能治糖尿病', publishedAt: '2026-11-28T02:00:00.000Z', live: { level: '橙' as const, category: '保健食品' }, candidate: null }],
    changed: [],
    unchanged: 119,
  };

  it('answers no report when nothing was saved, and the saved report once `rules backtest` wrote one', async () => {
    const dataDir = join(t.dir, 'data-bt');
    app = buildDesk(deps({ dataDir }));
    const officer = await as('officer');
    expect((await officer.get('/api/v1/rules/backtest')).json()).toMatchObject({ report: null });
    writeLastBacktest(dataDir, report, NOW);
    const r = (await officer.get('/api/v1/rules/backtest')).json();
    expect(r.report).toEqual({ ...report, savedAt: NOW.toISOString() });
  });

  it('answers no report when the process has no data folder', async () => {
    expect((await (await as('admin')).get('/api/v1/rules/backtest')).json()).toMatchObject({ report: null });
  });

  it('reports an unreadable file without leaking its path', async () => {
    const dataDir = join(t.dir, 'data-bad');
    writeLastBacktest(dataDir, report, NOW);
    writeFileSync(join(dataDir, LAST_BACKTEST_FILE), '{"items": 3');
    expect(() => readLastBacktest(dataDir)).toThrow(LAST_BACKTEST_FILE);
    app = buildDesk(deps({ dataDir }));
    const r = await (await as('officer')).get('/api/v1/rules/backtest');
    expect(r.statusCode).toBe(500);
    expect(r.body).not.toContain(t.dir);
  });

  it('leaves no temp file behind after a save', () => {
    const dataDir = join(t.dir, 'data-tmp');
    const file = writeLastBacktest(dataDir, report, NOW);
    expect(file).toBe(join(dataDir, LAST_BACKTEST_FILE));
    expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
  });
});
