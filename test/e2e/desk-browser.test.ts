import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { Alert, Level, ScoredItem } from '../../src/core/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { acquireDatabase, releaseDatabase } from '../../src/store/sqlite-db.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import { Accounts } from '../../src/auth/accounts.ts';
import { startDesk } from '../../src/desk/server.ts';
import { loadRuleEngine } from '../../src/scoring/engine.ts';
import { loadTrendRules } from '../../src/config/trends.ts';
import { beijingDay } from '../../src/desk/collect.ts';
import { offlineProcessor } from '../../src/cli/toolkit.ts';
import { scoreTextWith } from '../../src/desk/rules.ts';
import { writeLastBacktest } from '../../src/desk/backtest-file.ts';
import { tempDir } from '../helpers/tmp.ts';
import { browserAvailable, launch, screenshotPath } from './browser.ts';
import { joinTokens } from '../../src/text/tokens.ts';

/*
 * The duty desk in headless Chromium, over a real SQLite store seeded through the store API:
 * log in as each role, watch the live feed take a new alert, filter, search in Chinese,
 * acknowledge, assign, close, open the trends, print the briefing — and prove that a hostile
 * feed item runs no script.
 */
const run = browserAvailable();
const HOUR = 3600_000;
const PW = { officer: 'officer-pass-2026', county: 'county-pass-2026', admin: 'admin-pass-2026' };
const HOSTILE_TITLE = '<img src=x onerror="window.__xss=1;alert(1)">网传<script>window.__xss=2;alert(2)</script>某火锅店地沟油';

describe.skipIf(!run)('duty desk in Chromium', () => {
  const t = tempDir('sentinel-desk-e2e-');
  const segmenter = createSegmenter({ dictDir: resolve('rules/dict') });
  const dbPath = join(t.dir, 'sentinel.db');
  let store: SqliteStore;
  let accounts: Accounts;
  let desk: Awaited<ReturnType<typeof startDesk>>;
  let browser: Awaited<ReturnType<typeof launch>>;
  const now = Date.now();
  let seq = 0;

  function item(o: { title: string; body: string; hoursAgo: number; region: string; category: string; level: Level | null; terms: string[]; kind?: ScoredItem['kind']; business?: string }): ScoredItem {
    const text = `${o.title}\n${o.body}`;
    const at = new Date(now - o.hoursAgo * HOUR).toISOString();
    return {
      id: `e2e-${++seq}`,
      sourceId: o.kind === 'complaint' ? 'hotline-12315' : 'jxnews',
      kind: o.kind ?? 'news',
      title: o.title,
      body: o.body,
      url: `https://news.example.cn/${seq}.html`,
      publishedAt: at,
      fetchedAt: at,
      fields: o.business ? { 被投诉主体: o.business } : {},
      text,
      tokens: joinTokens(segmenter.cut(text)),
      simhash: '0000000000000000',
      regions: [o.region],
      category: o.category,
      score: o.level ? 10 : 2,
      level: o.level,
      risk: o.level !== null,
      hits: o.terms.flatMap((term) => {
        const start = text.indexOf(term);
        return start < 0 ? [] : [{ rule: 'e2e', group: 'harm', term, start, end: start + term.length, weight: 5, negated: false }];
      }),
      explanation: [{ rule: 'e2e', name: '端到端测试规则', category: o.category, matched: true, score: 10, level: o.level, reason: '命中测试词' }],
      processedAt: at,
    };
  }

  function alertOf(id: string, it: ScoredItem, level: Level): Alert {
    return {
      id,
      level,
      category: it.category!,
      region: it.regions[0]!,
      regions: it.regions,
      title: it.title,
      summary: it.body.slice(0, 60),
      score: it.score,
      itemIds: [it.id],
      sources: [it.sourceId],
      kinds: [it.kind],
      terms: it.hits.map((h) => h.term),
      status: 'new',
      firstSeenAt: it.publishedAt,
      lastSeenAt: it.publishedAt,
      createdAt: it.processedAt,
      updatedAt: it.processedAt,
      history: [],
      version: 0,
    };
  }

  beforeAll(async () => {
    store = new SqliteStore(acquireDatabase(dbPath), { tokenize: (s) => segmenter.cut(s) });
    accounts = new Accounts(acquireDatabase(dbPath));
    await accounts.addUser('值班员张敏', 'officer', undefined, PW.officer);
    await accounts.addUser('东湖区局', 'county', '360102', PW.county);
    await accounts.addUser('admin', 'admin', undefined, PW.admin);

    const canteen = item({ title: '东湖区某小学食堂午餐后多名学生呕吐', body: '多名学生在学校食堂用餐后出现呕吐、腹泻症状，疑似食物中毒，已送医观察。', hoursAgo: 2, region: '360102', category: '校园食品安全', level: '红', terms: ['学校食堂', '呕吐', '食物中毒'] });
    const takeout = item({ title: '青山湖区外卖商家使用过期原料', body: '市民投诉某外卖商家后厨使用过期肉类。', hoursAgo: 5, region: '360111', category: '餐饮服务', level: '黄', terms: ['过期'], kind: 'complaint', business: '湘味小厨餐馆' });
    const hostile = item({ title: HOSTILE_TITLE, body: '<img src=x onerror=alert(3)> 有网友称<b>火锅店</b>使用地沟油 javascript:alert(4)', hoursAgo: 3, region: '360102', category: '餐饮服务', level: '橙', terms: ['地沟油'] });
    const ganzhou = item({ title: '赣州市章贡区农贸市场蔬菜农药残留超标', body: '抽检发现某批次芹菜农药残留超标。', hoursAgo: 20, region: '360702', category: '食用农产品', level: '黄', terms: ['农药残留'] });
    // background for the trends: a week of ordinary reports
    const background: ScoredItem[] = [];
    for (let d = 1; d <= 8; d++) {
      for (const [cat, region] of [['餐饮服务', '360102'], ['食品销售', '360111'], ['食用农产品', '360702']] as const) {
        background.push(item({ title: `${cat}日常舆情${d}`, body: '市民反映商品变质。', hoursAgo: d * 24 - 3, region, category: cat, level: '蓝', terms: ['变质'] }));
      }
    }
    // a burst of 校园 complaints today
    const burst = Array.from({ length: 8 }, (_, i) =>
      item({ title: `家长投诉学校食堂饭菜变质${i + 1}`, body: '孩子在学校食堂吃饭后腹泻。', hoursAgo: 1 + i, region: '360102', category: '校园食品安全', level: '黄', terms: ['腹泻'], kind: 'complaint', business: '东湖区某小学食堂' }),
    );
    // the canteen report was scored by the live school rule: the rules page counts it as a hit
    canteen.explanation = [{ ...canteen.explanation[0]!, rule: 'school-food-safety', name: '校园食品安全' }];
    await store.upsertItems([canteen, takeout, hostile, ganzhou, ...background, ...burst]);
    await store.upsertAlerts([alertOf('a-canteen', canteen, '红'), alertOf('a-takeout', takeout, '黄'), alertOf('a-hostile', hostile, '橙'), alertOf('a-ganzhou', ganzhou, '黄')]);

    // what `sentinel rules backtest --rules candidate/` left in the data folder
    writeLastBacktest(t.dir, {
      since: new Date(now - 30 * 24 * HOUR).toISOString(),
      rules: '/srv/sentinel/rules-candidate',
      items: 36,
      liveAlerts: 4,
      candidateAlerts: 3,
      added: [],
      removed: [{ itemId: takeout.id, title: takeout.title, publishedAt: takeout.publishedAt, live: { level: '黄', category: '餐饮服务' }, candidate: null, reason: 'catering-service: 未命中' }],
      changed: [],
      unchanged: 35,
    });
    const offline = await offlineProcessor(resolve('rules'));
    desk = await startDesk(
      {
        store,
        accounts,
        health: async () => ({ store: 'ok' }),
        ruleEngine: () => offline.engine,
        scoreText: scoreTextWith(offline.process),
        dataDir: t.dir,
        reloadRules: () => loadRuleEngine(resolve('rules')),
        trendRules: () => loadTrendRules(resolve('rules/trends')),
      },
      { port: 0, liveIntervalMs: 300 },
    );
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await desk?.close();
    await store?.close();
    releaseDatabase(acquireDatabase(dbPath));
    t.cleanup();
  });

  /** A fresh page that records every dialog and every page error (a hostile script would show in one of them). */
  async function page(): Promise<{ p: Page; dialogs: string[]; errors: string[] }> {
    const p = await browser.context.newPage();
    p.setDefaultTimeout(8000);
    const dialogs: string[] = [];
    const errors: string[] = [];
    p.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    p.on('pageerror', (e) => errors.push(e.message));
    return { p, dialogs, errors };
  }

  async function loginAs(p: Page, name: string, password: string) {
    await browser.context.clearCookies();
    await p.goto(`${desk.url}/`);
    await p.waitForURL(/\/login\?next=/);
    await p.fill('#name', name);
    await p.fill('#password', password);
    await p.click('#submit');
    await p.waitForURL(`${desk.url}/`);
    await p.waitForSelector('#who');
  }

  const rowTitles = (p: Page) => p.$$eval('#alerts .row-title', (els) => els.map((e) => e.textContent));

  it('logs the officer in, receives a new alert live, filters, searches in Chinese and works an alert', async () => {
    const { p, dialogs, errors } = await page();
    await p.goto(`${desk.url}/`);
    expect(p.url()).toContain('/login');
    await p.fill('#name', '值班员张敏');
    await p.fill('#password', 'wrong-password');
    await p.click('#submit');
    await p.waitForSelector('#error:has-text("用户名或密码错误")');
    await p.fill('#password', PW.officer);
    await p.click('#submit');
    await p.waitForURL(`${desk.url}/`);
    await p.waitForSelector('#who:has-text("值班员张敏")');
    await p.waitForSelector('#live[data-state="live"]');
    expect(await rowTitles(p)).toHaveLength(4);

    // live: a new red alert written to the store while the page is open
    const fresh = item({ title: '南昌县某农村集体聚餐疑似食物中毒', body: '多名村民聚餐后腹泻呕吐，已送医。', hoursAgo: 0, region: '360121', category: '农村集体聚餐', level: '红', terms: ['食物中毒', '呕吐'] });
    await store.upsertItems([fresh]);
    await store.upsertAlerts([alertOf('a-live', fresh, '红')]);
    await p.waitForSelector('#alerts li.fresh .row-title:has-text("南昌县某农村集体聚餐疑似食物中毒")', { timeout: 10_000 });
    await p.waitForSelector('#toast:has-text("新红色预警")');
    await p.screenshot({ path: screenshotPath('desk.png'), fullPage: true });

    // filter by level: kept in the URL
    await p.check('input[name=level][value="红"]');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('level') === '红');
    await p.waitForFunction(() => document.querySelectorAll('#alerts .row-title').length === 2);
    expect((await rowTitles(p)).sort()).toEqual(['东湖区某小学食堂午餐后多名学生呕吐', '南昌县某农村集体聚餐疑似食物中毒']);
    await p.uncheck('input[name=level][value="红"]');

    // Chinese full-text search through the store
    await p.fill('input[name=q]', '外卖商家');
    await p.press('input[name=q]', 'Enter');
    await p.waitForFunction(() => document.querySelectorAll('#alerts .row-title').length === 1);
    expect(await rowTitles(p)).toEqual(['青山湖区外卖商家使用过期原料']);
    await p.click('button[type=reset]');
    await p.waitForFunction(() => document.querySelectorAll('#alerts .row-title').length === 5);

    // work the canteen alert: acknowledge, assign, close
    await p.click('#alerts .alert-row:has-text("东湖区某小学食堂")');
    await p.waitForSelector('.d-title h2:has-text("东湖区某小学食堂")');
    await p.waitForSelector('mark.hit:has-text("呕吐")');
    await p.screenshot({ path: screenshotPath('alert.png'), fullPage: true });
    await p.click('.actions button.ack');
    await p.waitForSelector('.d-facts .status:has-text("已确认")');
    await p.click('.actions button.assign');
    await p.fill('.inline-form input', '东湖区市场监管局');
    await p.click('.inline-form button[type=submit]');
    await p.waitForSelector('.d-facts .status:has-text("已指派")');
    await p.click('.actions button.close');
    await p.selectOption('.close-form select', '已处置');
    await p.fill('.close-form input', '已责令停业整改');
    await p.click('.close-form button[type=submit]');
    await p.waitForSelector('.d-facts .status:has-text("已关闭")');
    const stored = (await store.getAlert('a-canteen'))!;
    expect(stored.status).toBe('closed');
    expect(stored.history.map((h) => [h.action, h.actor])).toEqual([
      ['acknowledge', '值班员张敏'],
      ['assign', '值班员张敏'],
      ['close', '值班员张敏'],
    ]);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('runs no script from a hostile item, in the list, the alert page and the briefing', async () => {
    const { p, dialogs, errors } = await page();
    await loginAs(p, '值班员张敏', PW.officer);
    await p.goto(`${desk.url}/?alert=a-hostile`);
    await p.waitForSelector('.d-title h2');
    expect(await p.textContent('.d-title h2')).toBe(HOSTILE_TITLE);
    await p.waitForSelector('.item-text');
    expect(await p.$$('.detail-pane img, .detail-pane script, .detail-pane b, #alerts img')).toHaveLength(0);
    await p.goto(`${desk.url}/api/v1/briefing?day=${beijingDay(new Date(now - 3 * HOUR))}`);
    await p.waitForSelector('h1');
    expect(await p.content()).toContain('&lt;img src=x');
    await p.waitForTimeout(300);
    expect(await p.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('opens the trends with charts and tables, and prints the briefing', async () => {
    const { p, errors } = await page();
    await loginAs(p, '值班员张敏', PW.officer);
    await p.goto(`${desk.url}/trends?window=7d`);
    await p.waitForSelector('body[data-loaded="7d"]');
    await p.waitForSelector('#series-chart canvas');
    await p.waitForSelector('#heat-chart canvas');
    expect(await p.textContent('#heat-table')).toContain('南昌市');
    expect(await p.textContent('#rising-categories')).toContain('校园食品安全');
    await p.screenshot({ path: screenshotPath('trends.png'), fullPage: true });

    await p.goto(`${desk.url}/api/v1/briefing?day=${beijingDay(new Date(now - 3 * HOUR))}`);
    await p.waitForSelector('h1:has-text("食品安全舆情日报")');
    expect(await p.textContent('body')).toContain('红色、橙色预警');
    await p.emulateMedia({ media: 'print' });
    expect(await p.isVisible('.toolbar')).toBe(false);
    await p.screenshot({ path: screenshotPath('briefing.png'), fullPage: true });
    const pdf = screenshotPath('briefing.pdf');
    await p.pdf({ path: pdf, format: 'A4', printBackground: true });
    expect(existsSync(pdf) && statSync(pdf).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('shows a county user its own region only', async () => {
    const { p } = await page();
    await loginAs(p, '东湖区局', PW.county);
    await p.waitForSelector('#who:has-text("东湖区")');
    await p.waitForFunction(() => document.querySelectorAll('#alerts .row-title').length > 0);
    const titles = await rowTitles(p);
    expect(titles.sort()).toEqual(['东湖区某小学食堂午餐后多名学生呕吐', HOSTILE_TITLE].sort());
    await p.goto(`${desk.url}/?alert=a-ganzhou`);
    await p.waitForSelector('.detail-pane .error:has-text("不存在")');
    const status = await p.evaluate(async () => (await fetch('/api/v1/alerts/a-takeout')).status);
    expect(status).toBe(404);
    await p.close();
  });

  it('filters by the region tree and the source kind, kept in the URL, and shows the region as a breadcrumb', async () => {
    const { p, errors } = await page();
    await loginAs(p, '值班员张敏', PW.officer);
    await p.waitForSelector('#f-region[data-ready="true"]');
    await p.selectOption('select[name=province]', '360000');
    await p.waitForSelector('select[name=city] option[value="360700"]', { state: 'attached' });
    await p.selectOption('select[name=city]', '360700');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('region') === '360700');
    await p.waitForFunction(() => document.querySelectorAll('#alerts .row-title').length === 1);
    expect(await rowTitles(p)).toEqual(['赣州市章贡区农贸市场蔬菜农药残留超标']);
    // back to the whole province: everything under 江西 again, the 赣州 counties gone from the tree
    await p.selectOption('select[name=province]', '');
    await p.waitForFunction(() => !new URL(location.href).searchParams.has('region'));
    expect(await p.isDisabled('select[name=city]')).toBe(true);

    await p.selectOption('select[name=kind]', 'complaint');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('kind') === 'complaint');
    await p.waitForFunction(() => document.querySelectorAll('#alerts .row-title').length === 1);
    expect(await rowTitles(p)).toEqual(['青山湖区外卖商家使用过期原料']);

    // a shared link restores both filters, the tree opened down to the county
    await p.goto(`${desk.url}/?region=360102&kind=news`);
    await p.waitForSelector('#f-region[data-ready="true"]');
    expect(await p.$eval('select[name=county]', (s) => (s as HTMLSelectElement).selectedOptions[0]!.textContent)).toBe('东湖区');
    expect(await p.$eval('select[name=kind]', (s) => (s as HTMLSelectElement).value)).toBe('news');
    await p.waitForFunction(() => document.querySelectorAll('#alerts .row-title').length === 2);
    expect((await rowTitles(p)).sort()).toEqual(['东湖区某小学食堂午餐后多名学生呕吐', HOSTILE_TITLE].sort());

    await p.click('#alerts .alert-row:has-text("东湖区某小学食堂")');
    await p.waitForSelector('.d-facts .crumbs');
    expect((await p.textContent('.d-facts .crumbs'))!.replace(/\s+/g, ' ')).toBe('江西省 › 南昌市 › 东湖区');
    expect(errors).toEqual([]);
    await p.close();
  });

  it('opens the rules page: rules with hits and tests, pasted text scored with the explanation, the last backtest', async () => {
    const { p, dialogs, errors } = await page();
    await loginAs(p, '值班员张敏', PW.officer);
    await p.click('.nav-links a[href="/rules"]');
    await p.waitForSelector('body[data-loaded="rules"]');
    expect(await p.isVisible('#reload')).toBe(false);
    expect(await p.textContent('#rules-summary')).toMatch(/自测 \d+ 项，全部通过/);
    expect(await p.textContent('tr[data-rule="school-food-safety"] .hits')).toBe('1');
    expect(await p.textContent('#backtest')).toContain('候选规则移除的预警（1）');
    expect(await p.textContent('#backtest')).toContain('青山湖区外卖商家使用过期原料');
    expect(await p.textContent('#backtest')).not.toContain('null');

    await p.fill('#score-form input[name=title]', '南昌市某小学食堂午餐后多名学生呕吐');
    await p.fill('#score-text', '11月29日中午，东湖区某小学数十名学生在学校食堂用餐后陆续出现呕吐、腹泻症状，已送医院治疗。');
    await p.click('#score-submit');
    await p.waitForSelector('#score-result .verdict');
    expect(await p.textContent('#score-result .verdict')).toMatch(/[红橙]色预警 · 校园食品安全/);
    expect(await p.textContent('#score-result .verdict')).toContain('东湖区');
    await p.waitForSelector('#score-result mark.hit:has-text("呕吐")');
    expect(await p.textContent('#explanation tr.matched')).toContain('校园食品安全');
    await p.screenshot({ path: screenshotPath('rules.png'), fullPage: true });

    // a hostile paste stays text
    await p.fill('#score-text', '<img src=x onerror="window.__xss=1">学校食堂饭菜变质<script>window.__xss=2</script>');
    await p.click('#score-submit');
    await p.waitForSelector('#score-result mark.hit');
    expect(await p.$$('#score-result img, #score-result script')).toHaveLength(0);
    expect(await p.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    await loginAs(p, 'admin', PW.admin);
    await p.goto(`${desk.url}/rules`);
    await p.waitForSelector('body[data-loaded="rules"]');
    expect(await p.isVisible('#reload')).toBe(true);

    await loginAs(p, '东湖区局', PW.county);
    expect(await p.$$('.nav-links a[href="/rules"]')).toHaveLength(0);
    const status = await p.evaluate(async () => (await fetch('/rules')).status);
    expect(status).toBe(403);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('lets the admin reload the rules, and only the admin', async () => {
    const { p } = await page();
    const reload = () =>
      p.evaluate(async () => {
        const csrf = /sentinel_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
        const r = await fetch('/api/v1/rules/reload', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
        return { status: r.status, body: await r.json() };
      });
    await loginAs(p, '值班员张敏', PW.officer);
    expect((await reload()).status).toBe(403);
    await loginAs(p, 'admin', PW.admin);
    const r = await reload();
    expect(r.status).toBe(200);
    expect(r.body.rules).toBeGreaterThan(10);
    await p.goto(`${desk.url}/ledger`);
    await p.waitForSelector('body[data-loaded="ledger"]');
    expect(await p.textContent('#summary')).toContain('处置完成率');
    const xlsx = await p.getAttribute('#xlsx', 'href');
    expect(xlsx).toMatch(/^\/api\/v1\/ledger\.xlsx\?/);
    const download = await p.evaluate(async (href) => {
      const r = await fetch(href);
      return { status: r.status, type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength };
    }, xlsx!);
    expect(download).toMatchObject({ status: 200, type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    expect(download.size).toBeGreaterThan(2000);
    await p.click('#logout');
    await p.waitForURL(/\/login/);
    await p.close();
  });
});
