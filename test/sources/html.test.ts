import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { itemId } from '../../src/core/ids.ts';
import { RawItem } from '../../src/core/types.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { SourceError } from '../../src/sources/errors.ts';
import { HtmlSource } from '../../src/sources/html.ts';
import { createSource } from '../../src/sources/registry.ts';
import { RobotsCache } from '../../src/sources/robots.ts';
import { ctx, NOW, serve, type TestServer } from './helpers.ts';

// NOW is 2026-11-29 13:00 in China.
const where = { file: 'test.yaml', path: 'sources[3]' };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A county government list page as such CMSs print them: GBK, no charset anywhere, relative links. */
function listPage(n: number, rows: [string, string, string][], next?: string): string {
  const lis = rows.map(([href, title, date]) => `<li><a href="${href}" title="${title}">${title}</a><span class="date">${date}</span></li>`).join('\n');
  return `<html><head><title>通知公告 第${n}页</title></head><body>
<div class="nav"><a href="/">首页</a></div>
<ul class="list">
${lis}
</ul>
<div class="page">${next ? `<a class="next" href="${next}">下一页</a>` : '<span>下一页</span>'}</div>
</body></html>`;
}

const PAGES: Record<string, string> = {
  '/tzgg/': listPage(
    1,
    [
      ['./202611/t20261129_3.html', '关于某小学食堂食物中毒事件的情况通报', '2026-11-29'],
      ['202611/t20261128_2.html', '县市场监管局开展校园周边食品安全检查', '昨天 16:30'],
      ['/tzgg/202611/t20261128_1.html', '元旦春节期间食品安全提示', '3小时前'],
    ],
    'index_1.html',
  ),
  '/tzgg/index_1.html': listPage(
    2,
    [
      ['202611/t20261120_9.html', '农贸市场快检结果公示', '11-20 09:15'],
      ['javascript:void(0)', '没有链接的一条', '2026年11月19日'],
    ],
    'index_2.html',
  ),
  '/tzgg/index_2.html': listPage(3, [['202610/t20261031_1.html', '十月份食品抽检信息', '2026/10/31 10:00']], 'index_3.html'),
  '/tzgg/index_3.html': listPage(4, [['202609/x.html', '不应读到的第四页', '2026-09-01']]),
};

function articlePage(title: string, body: string): string {
  return `<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>${title}</title></head><body>
<div class="nav"><a href="/">首页</a> &gt; <a href="/tzgg/">通知公告</a></div>
<h1>${title}</h1><div class="info">发布时间：2026-11-29 来源：县市场监管局</div>
<div id="content"><p>${body}</p><p>特此通报。</p></div>
<div class="footer">主办：某县人民政府 备案号：甘ICP备0000000号</div>
</body></html>`;
}

function site(): Promise<TestServer> {
  return serve((req, res) => {
    const url = req.url ?? '/';
    const page = PAGES[url];
    if (page) {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(iconv.encode(page, 'gbk'));
    }
    const m = /^\/tzgg\/\d{6}\/(t[\d_]+)\.html$/.exec(url);
    if (m) {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(iconv.encode(articlePage(m[1], `${m[1]}号通报正文：经初步调查，事件系食堂留样食品变质所致。`), 'gbk'));
    }
    res.writeHead(404).end();
  });
}

const html = (url: string, extra: Record<string, unknown> = {}) =>
  createSource({ id: 'county', type: 'html', url, list: 'ul.list li', title: 'a', date: 'span.date', allowPrivate: true, ...extra }, where) as HtmlSource;

describe('html source: list pages', () => {
  it('reads items from a GBK page without any charset label, resolving relative links against the page URL', async () => {
    server = await site();
    const items = await html(`${server.base}/tzgg/`).poll(ctx());
    expect(items.map((i) => i.title)).toEqual([
      '关于某小学食堂食物中毒事件的情况通报',
      '县市场监管局开展校园周边食品安全检查',
      '元旦春节期间食品安全提示',
    ]);
    expect(items.map((i) => i.url)).toEqual([
      `${server.base}/tzgg/202611/t20261129_3.html`,
      `${server.base}/tzgg/202611/t20261128_2.html`,
      `${server.base}/tzgg/202611/t20261128_1.html`,
    ]);
    expect(items[0]).toMatchObject({
      id: itemId('county', `${server.base}/tzgg/202611/t20261129_3.html`),
      sourceId: 'county',
      kind: 'news',
      body: '',
      fetchedAt: NOW.toISOString(),
      fields: { page: `${server.base}/tzgg/`, date: '2026-11-29' },
    });
    for (const item of items) expect(() => RawItem.parse(item)).not.toThrow();
  });

  it('parses Chinese list dates (2026-11-29, 昨天 16:30, 3小时前) in China time relative to now', async () => {
    server = await site();
    const items = await html(`${server.base}/tzgg/`).poll(ctx());
    expect(items.map((i) => i.publishedAt)).toEqual(['2026-11-28T16:00:00.000Z', '2026-11-28T08:30:00.000Z', '2026-11-29T02:00:00.000Z']);
  });

  it('follows the next-page link up to maxPages (default 3) and reports the pages read', async () => {
    server = await site();
    const src = html(`${server.base}/tzgg/`, { next: 'a.next' });
    const items = await src.poll(ctx());
    expect(items.map((i) => i.title)).toEqual([
      '关于某小学食堂食物中毒事件的情况通报',
      '县市场监管局开展校园周边食品安全检查',
      '元旦春节期间食品安全提示',
      '农贸市场快检结果公示',
      '没有链接的一条',
      '十月份食品抽检信息',
    ]);
    expect(server.requests.map((r) => r.url)).toEqual(['/tzgg/', '/tzgg/index_1.html', '/tzgg/index_2.html']);
    expect(items[3].publishedAt).toBe('2026-11-20T01:15:00.000Z'); // "11-20 09:15", this year
    expect(items[4].url).toBeUndefined(); // javascript: is not a link
    expect(items[5].publishedAt).toBe('2026-10-31T02:00:00.000Z');
    expect(src.lastReport()).toMatchObject({ type: 'fetch', pages: 3, items: 6, notModified: false, articles: { fetched: 0 } });
    expect(src.lastReport()!.bytes).toBeGreaterThan(0);
  });

  it('stops following next links that loop back', async () => {
    server = await serve((_req, res) => {
      res.end(listPage(1, [['a.html', '循环分页', '2026-11-29']], './'));
    });
    const src = html(`${server.base}/list/`, { next: 'a.next', maxPages: 5 });
    expect(await src.poll(ctx())).toHaveLength(1);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps the full title from the title attribute when the list shows it cut with …', async () => {
    server = await serve((_req, res) => {
      res.end('<ul class="list"><li><a href="/a.html" title="关于2026年第45期食品安全监督抽检信息的通告">关于2026年第45期食品安全…</a><span class="date">2026-11-29</span></li></ul>');
    });
    const [item] = await html(`${server.base}/`).poll(ctx());
    expect(item.title).toBe('关于2026年第45期食品安全监督抽检信息的通告');
  });

  it('uses dateFormat when given and reports unreadable dates as warnings (the item keeps the fetch time)', async () => {
    server = await serve((_req, res) => {
      res.end(
        '<ul class="list"><li><a href="/a.html">甲</a><span class="date">29/11/2026</span></li><li><a href="/b.html">乙</a><span class="date">待定</span></li></ul>',
      );
    });
    const src = html(`${server.base}/`, { dateFormat: 'DD/MM/YYYY' });
    const items = await src.poll(ctx());
    expect(items.map((i) => i.publishedAt)).toEqual(['2026-11-28T16:00:00.000Z', NOW.toISOString()]);
    expect(src.lastReport()!.warnings).toEqual([`${server.base}/b.html: cannot read the date "待定"`]);
  });

  it('a list selector that matches nothing fails the poll, naming the selector (the site changed its layout)', async () => {
    server = await site();
    const e = await html(`${server.base}/tzgg/`, { list: 'div.news-list li' }).poll(ctx()).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as Error).message).toMatch(/list selector "div\.news-list li" matched nothing \(has the page layout changed\?\)/);
  });

  it('honours an explicit encoding option over a wrong server label', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=iso-8859-1' });
      res.end(iconv.encode('<ul class="list"><li><a href="/a.html">食品抽检</a></li></ul>', 'gbk'));
    });
    const [item] = await html(`${server.base}/`, { encoding: 'gbk' }).poll(ctx());
    expect(item.title).toBe('食品抽检');
  });

  it('is refused on 127.0.0.1 without allowPrivate', async () => {
    server = await site();
    const e = await html(`${server.base}/tzgg/`, { allowPrivate: false }).poll(ctx()).catch((err: unknown) => err);
    expect((e as Error).message).toMatch(/refusing to connect to 127\.0\.0\.1/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('html source: articles', () => {
  it('fetches each new item’s page and keeps the article selector’s text (GBK with a gb2312 meta)', async () => {
    server = await site();
    const src = html(`${server.base}/tzgg/`, { article: '#content' });
    const items = await src.poll(ctx());
    expect(items[0].body).toBe('t20261129_3号通报正文：经初步调查，事件系食堂留样食品变质所致。\n特此通报。');
    expect(src.lastReport()!.articles).toEqual({ fetched: 3, failed: 0, deferred: 0 });
  });

  it('caps article fetches per poll and fetches the rest on later polls, keeping bodies already fetched', async () => {
    server = await site();
    const src = html(`${server.base}/tzgg/`, { article: '#content', maxArticles: 2 });
    const first = await src.poll(ctx());
    expect(first.map((i) => i.body !== '')).toEqual([true, true, false]);
    expect(src.lastReport()!.articles).toEqual({ fetched: 2, failed: 0, deferred: 1 });
    const second = await src.poll(ctx());
    expect(second.map((i) => i.body !== '')).toEqual([true, true, true]);
    expect(src.lastReport()!.articles).toEqual({ fetched: 1, failed: 0, deferred: 0 });
    const articleRequests = server.requests.filter((r) => /t2026/.test(r.url ?? ''));
    expect(articleRequests).toHaveLength(3);
  });

  it('with article: true finds the body without a selector and leaves navigation and footer out', async () => {
    server = await serve((req, res) => {
      if (req.url === '/') return res.end('<ul class="list"><li><a href="/a.html">通报</a></li></ul>');
      res.end(
        '<html><body><div class="nav">首页 通知公告</div><div class="TRS_Editor"><p>经查，该店销售过期食品12件，已立案调查。</p></div><div class="footer">版权所有</div></body></html>',
      );
    });
    const [item] = await html(`${server.base}/`, { article: true, date: undefined }).poll(ctx());
    expect(item.body).toBe('经查，该店销售过期食品12件，已立案调查。');
  });

  it('an article that cannot be fetched is a warning, not a failed poll', async () => {
    server = await serve((req, res) => {
      if (req.url === '/') return res.end('<ul class="list"><li><a href="/gone.html">已删除的通知</a></li></ul>');
      res.writeHead(404).end();
    });
    const src = html(`${server.base}/`, { article: '#content', date: undefined });
    const [item] = await src.poll(ctx());
    expect(item).toMatchObject({ title: '已删除的通知', body: '' });
    expect(src.lastReport()!.articles).toEqual({ fetched: 0, failed: 1, deferred: 0 });
    expect(src.lastReport()!.warnings[0]).toMatch(/^article .*\/gone\.html: .*HTTP 404/);
    await src.poll(ctx());
    expect(server.requests.filter((r) => r.url === '/gone.html')).toHaveLength(1); // a 404 is not retried
  });
});

describe('html source: robots.txt', () => {
  it('with robots: true a disallowed list page fails with a SourceError saying so', async () => {
    server = await serve((req, res) => {
      if (req.url === '/robots.txt') return res.end('User-agent: *\nDisallow: /tzgg/\n');
      res.end(iconv.encode(PAGES['/tzgg/'], 'gbk'));
    });
    const src = new HtmlSource(
      { ...(html(`${server.base}/tzgg/`).config), robots: true },
      { robots: new RobotsCache() },
    );
    const e = await src.poll(ctx()).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as Error).message).toMatch(/robots\.txt of .* disallows this URL/);
    expect(server.requests.map((r) => r.url)).toEqual(['/robots.txt']);
  });

  it('without the option robots.txt is not consulted', async () => {
    server = await site();
    await html(`${server.base}/tzgg/`).poll(ctx());
    expect(server.requests.map((r) => r.url)).toEqual(['/tzgg/']);
  });
});

describe('html source: configuration', () => {
  const bad = (extra: Record<string, unknown>) => {
    try {
      createSource({ id: 'x', type: 'html', url: 'https://example.gov.cn/', list: 'li', ...extra }, where);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('requires list and an http(s) url, and validates selectors and the date format', () => {
    expect(bad({ list: undefined })).toMatch(/sources\[3\]\.list: required/);
    expect(bad({ url: 'list.html' })).toMatch(/sources\[3\]\.url: expected an http\(s\) URL/);
    expect(bad({ title: 'a[href' })).toMatch(/sources\[3\]\.title: not a valid CSS selector/);
    expect(bad({ dateFormat: 'YYYY' })).toMatch(/sources\[3\]\.dateFormat: a date format needs at least month and day/);
    expect(bad({ encoding: 'klingon' })).toMatch(/sources\[3\]\.encoding: unknown encoding/);
  });
});
