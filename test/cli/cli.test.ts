import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/tmp.ts';

const BIN = resolve('bin/sentinel.js');
const t = tempDir('sentinel-cli-');
afterAll(() => t.cleanup());

function sentinel(args: string[], input?: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, SENTINEL_DATA: join(t.dir, 'data'), LOG_LEVEL: 'silent', ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('sentinel CLI', () => {
  it('score: one JSON line per input with the public contract fields', () => {
    const input = [
      { id: 'c1', title: '某小学食堂学生午餐后集体呕吐腹泻', body: '23名学生送医治疗。', kind: 'news' },
      { id: 2, text: '今天天气晴朗，适合出游。' },
    ].map((o) => JSON.stringify(o)).join('\n');
    const r = sentinel(['score'], input + '\n');
    expect(r.code).toBe(0);
    const [a, b] = lines(r.out);
    for (const o of [a, b]) {
      expect(Object.keys(o)).toEqual(expect.arrayContaining(['id', 'risk', 'level', 'category', 'score', 'regions', 'hits']));
      expect(Array.isArray(o.regions)).toBe(true);
      expect(Array.isArray(o.hits)).toBe(true);
    }
    expect(a).toMatchObject({ id: 'c1', risk: true, category: '校园食品安全' });
    expect(['红', '橙']).toContain(a.level);
    expect(b).toMatchObject({ id: '2', risk: false, level: null, category: null });
  });

  it('score: a bad line gets an error naming the line and field, the others still score, exit 1', () => {
    const r = sentinel(['score'], '{"id":"x"}\nnot json\n{"id":"ok","text":"超市销售过期牛奶"}\n');
    expect(r.code).toBe(1);
    const out = lines(r.out);
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ id: 'x', error: 'line 1: body: needs "body" or "text"' });
    expect(out[1].error).toMatch(/^line 2: invalid JSON/);
    expect(out[2]).toMatchObject({ id: 'ok' });
  });

  it('wrong usage exits 2 with what was wrong', () => {
    const unknown = sentinel(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
    const badRole = sentinel(['run', '--role', 'boss']);
    expect(badRole.code).toBe(2);
    expect(badRole.err).toMatch(/--role/);
    const missing = sentinel(['ingest']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing required argument/);
  });

  it('--help works on every command', () => {
    for (const cmd of [[], ['run'], ['score'], ['fetch'], ['ingest'], ['stats'], ['rules'], ['rules', 'test']]) {
      const r = sentinel([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.out).toMatch(/Usage: sentinel/);
    }
  });

  it('fetch: prints the items a sample feed would ingest, stores nothing', () => {
    const r = sentinel(['fetch', resolve('pipelines/samples/jx-news.xml')]);
    expect(r.code).toBe(0);
    const items = lines(r.out);
    expect(items.length).toBeGreaterThanOrEqual(20);
    expect(items[0]).toMatchObject({ sourceId: 'adhoc', kind: 'news' });
    expect(typeof items[0].title).toBe('string');
  });

  it('fetch: an html page without a feed, described by selectors on the command line', async () => {
    const { createServer } = await import('node:http');
    const { execFile } = await import('node:child_process');
    const page = `<html><head><meta charset="utf-8"><title>市场监管动态</title></head><body><ul class="news">
      <li><a href="/art/1.html">我县查处一起销售过期食品案</a><span>2026-11-28</span></li>
      <li><a href="/art/2.html">开展校园食品安全专项检查</a><span>2026-11-27</span></li></ul></body></html>`;
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const out = await new Promise<string>((resolvePromise, reject) =>
        execFile(process.execPath, [BIN, 'fetch', `http://127.0.0.1:${port}/list.html`, '--type', 'html', '--list', 'ul.news li', '--date', 'span', '--allow-private'],
          { env: { ...process.env, LOG_LEVEL: 'silent' } }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolvePromise(stdout))),
      );
      const items = lines(out);
      expect(items.map((i: { title: string }) => i.title)).toEqual(['我县查处一起销售过期食品案', '开展校园食品安全专项检查']);
      expect(items[0].url).toBe(`http://127.0.0.1:${port}/art/1.html`);
      expect(items[0].publishedAt.startsWith('2026-11-27T16:00:00')).toBe(true);
    } finally {
      server.close();
    }
  });

  it('fetch: refuses a loopback URL unless --allow-private, exit 1 with the reason', () => {
    const r = sentinel(['fetch', 'http://127.0.0.1:9/feed.xml', '--type', 'rss']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/127\.0\.0\.1/);
  });

  it('ingest: imports a hotline export idempotently; stats --json shows the contract shape', () => {
    const csv = join(t.dir, 'export.csv');
    writeFileSync(
      csv,
      '\uFEFF登记编号,登记时间,渠道,诉求类型,被投诉主体,地址,所属区域,商品或服务分类,诉求内容,处理状态\n' +
        '3607312026112800001,2026-11-28 09:12:00,12315平台,投诉,于都县某小吃店,于都县贡江镇,360731,餐饮服务,在这家店吃了米粉后全家三口上吐下泻，去医院打了吊针，怀疑食材变质,待受理\n' +
        '3601022026112800002,2026-11-28 10:30:00,12315热线,咨询,,南昌市东湖区,360102,其他,请问办理食品经营许可证需要哪些材料,已办结\n',
    );
    const first = sentinel(['ingest', csv, '--source', 'hotline-test']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ records: 2, new: 2, duplicates: 0 });
    const second = sentinel(['ingest', csv, '--source', 'hotline-test']);
    expect(JSON.parse(second.out)).toMatchObject({ records: 2, new: 0, duplicates: 2 });
    const stats = JSON.parse(sentinel(['stats', '--json']).out);
    expect(stats.items).toEqual({ total: 2, bySource: { 'hotline-test': 2 }, byKind: { complaint: 2 } });
    expect(stats.alerts.total).toBe(1);
    expect(Object.keys(stats.alerts)).toEqual(['total', 'byLevel', 'byStatus']);
  });
});
