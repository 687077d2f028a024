import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { RawItem } from '../../src/core/types.ts';
import { itemId } from '../../src/core/ids.ts';
import { SourceError } from '../../src/sources/errors.ts';
import { createSource } from '../../src/sources/registry.ts';
import { RobotsCache } from '../../src/sources/robots.ts';
import { RssSource } from '../../src/sources/rss.ts';
import { GBK_FEED } from '../fixtures/sources/make-encoded.ts';
import { ctx, FIXTURES, NOW, serve, type TestServer } from './helpers.ts';

const where = { file: 'test.yaml', path: 'sources[0]' };
const rss = (url: string, extra: Record<string, unknown> = {}) => createSource({ id: 'feed', type: 'rss', url, ...extra }, where);
const rssSource = (url: string, extra: Record<string, unknown> = {}) => rss(url, extra) as RssSource;

async function pollFile(name: string) {
  return rss(name).poll(ctx());
}

async function pollError(name: string): Promise<SourceError> {
  const e = await pollFile(name).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SourceError);
  return e as SourceError;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('rss source over files', () => {
  it('decodes a GBK feed by its XML declaration', async () => {
    const items = await pollFile('rss2-gbk.xml');
    expect(items.map((i) => i.title)).toEqual(['关于开展元旦春节期间食品安全专项检查的通知', '县市场监管局公布农贸市场快检结果']);
    expect(items[0].body).toContain('“舌尖上的安全”');
    expect(items[0]).toMatchObject({
      sourceId: 'feed',
      kind: 'news',
      url: 'http://www.example-county.gov.cn/tzgg/202611/t20261127_88.html',
      publishedAt: '2026-11-27T02:00:00.000Z',
      fetchedAt: NOW.toISOString(),
      fields: { feed: '某县人民政府网 - 通知公告' },
    });
    expect(items[0].id).toBe(itemId('feed', 'http://www.example-county.gov.cn/tzgg/202611/t20261127_88.html'));
  });

  it('decodes a Big5 feed', async () => {
    const [item] = await pollFile('rss2-big5.xml');
    expect(item.title).toBe('邊境查驗不合格食品　進口商已退運銷毀');
    expect(item.body).toBe('本週邊境查驗發現農藥殘留不符規定之蔬果三批，均已退運或銷毀。');
    expect(item.id).toBe(itemId('feed', 'fda-news-1129'));
  });

  it('reads a feed that starts with a UTF-8 BOM', async () => {
    const [item] = await pollFile('rss2-bom.xml');
    expect(item.title).toBe('网传“塑料紫菜”系谣言');
    expect(item.publishedAt).toBe('2026-11-29T02:00:00.000Z');
  });

  it('reads Atom: id as key, alternate link, published date, HTML summary as text, relative links resolved', async () => {
    const items = await pollFile('atom.xml');
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      id: itemId('feed', 'tag:scjgj.example.gov.cn,2026:spaq/t20261129_1'),
      title: '关于2026年第45期食品安全监督抽检信息的通告',
      body: '近期，我局组织抽检粮食加工品等12大类食品386批次，\n不合格样品7批次。',
      url: 'https://scjgj.example.gov.cn/spaq/2026/11/t20261129_1.html',
      publishedAt: '2026-11-29T00:30:00.000Z',
      fields: { feed: '某省市场监督管理局 · 食品安全', author: '食品抽检处' },
    });
    expect(items[1]).toMatchObject({
      body: '检查学校食堂&周边商户42家，责令整改3家。',
      url: 'https://scjgj.example.gov.cn/spaq/2026/11/t20261128_3.html',
      publishedAt: '2026-11-28T16:20:00.000Z',
    });
  });

  it('reads RSS 1.0 (RDF) with dc:date, zone-less dates as China time', async () => {
    const items = await pollFile('rdf.xml');
    expect(items.map((i) => [i.title, i.publishedAt])).toEqual([
      ['多地通报散装白酒甲醇超标', '2026-11-28T23:10:00.000Z'],
      ['冷链食品追溯平台上线', '2026-11-28T22:00:00.000Z'],
    ]);
    expect(items[0].id).toBe(itemId('feed', 'https://news.example.cn/food/20261129/001.html'));
    expect(items[0].fields.author).toBe('记者 王明');
  });

  it('turns CDATA and escaped HTML into plain text and prefers content:encoded for the body', async () => {
    const [first, second, third, fourth] = await pollFile('rss2-cdata.xml');
    expect(first.title).toBe('突发：某小学食堂午餐后多名学生呕吐 & 腹泻');
    expect(first.body).toBe(
      '11月29日中午，某小学20余名学生午餐后出现呕吐、腹泻症状。\n目前学生情况稳定。\n市场监管部门已封存留样食品，正在检测。',
    );
    expect(first.url).toBe('https://www.example-city.cn/news/2026/1129/a1.html');
    expect(first.fields).toEqual({ feed: '某市新闻网', categories: '社会、校园' });
    expect(first.publishedAt).toBe('2026-11-29T04:40:00.000Z');
    expect(second.title).toBe('某超市销售过期牛奶被罚 <详情>');
    expect(second.body).toBe('执法人员在该超市查获过期牛奶&酸奶共计36盒。');
    expect(second.publishedAt).toBe('2026-11-28T10:05:00.000Z');
    expect(third.publishedAt).toBe('2026-11-28T13:00:00.000Z');
    expect(third.url).toBeUndefined();
    expect(fourth.url).toBeUndefined(); // a javascript: link is not kept
  });

  it('every item is a valid RawItem', async () => {
    for (const f of ['rss2-gbk.xml', 'rss2-big5.xml', 'rss2-bom.xml', 'atom.xml', 'rdf.xml', 'rss2-cdata.xml']) {
      for (const item of await pollFile(f)) expect(() => RawItem.parse(item)).not.toThrow();
    }
  });

  it('gives the same ids on every poll, and distinct ids to distinct entries', async () => {
    const source = rss('rss2-cdata.xml');
    const a = await source.poll(ctx());
    const b = await source.poll(ctx({ now: () => new Date('2026-11-30T00:00:00Z') }));
    expect(b.map((i) => i.id)).toEqual(a.map((i) => i.id));
    // The last two entries share a title and have no guid or link: title + pubDate still tells them apart.
    expect(new Set(a.map((i) => i.id)).size).toBe(a.length);
  });

  it('the same entry in two sources gets two ids (ids are per source)', async () => {
    const a = await rss('rss2-gbk.xml').poll(ctx());
    const b = await createSource({ id: 'other', type: 'rss', url: 'rss2-gbk.xml' }, where).poll(ctx());
    expect(a[0].id).not.toBe(b[0].id);
  });

  it('a truncated feed fails with a clear reason', async () => {
    const e = await pollError('truncated.xml');
    expect(e.message).toMatch(/truncated\.xml: not an RSS\/Atom feed: .*\(truncated\?\) at line 18/);
    expect(e.retriable).toBe(false);
  });

  it('a malformed feed names the problem and the line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sentinel-rss-'));
    writeFileSync(path.join(dir, 'bad.xml'), '<?xml version="1.0"?>\n<rss version="2.0"><channel>\n<item><title>标题</item>\n</channel></rss>');
    const e = await rss('bad.xml').poll(ctx({ baseDir: dir })).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as Error).message).toMatch(/bad\.xml: not an RSS\/Atom feed: unexpected close tag at line 3, column \d+/);
  });

  it('a missing file is a SourceError naming the resolved path', async () => {
    const e = await rss('no-such-feed.xml').poll(ctx()).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as Error).message).toBe(`${path.join(FIXTURES, 'no-such-feed.xml')}: file not found`);
  });

  it('an HTML page is not a feed', async () => {
    server = await serve((_req, res) => res.end('<html><head><title>404</title></head><body>页面不存在</body></html>'));
    const e = await rss(`${server.base}/`).poll(ctx({ allowPrivate: true })).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as Error).message).toMatch(/not an RSS\/Atom feed: root element <html> is not <rss>, <rdf:RDF> or <feed>/);
  });
});

describe('rss source over http (127.0.0.1 only)', () => {
  it('decodes by the HTTP charset when the feed has no declaration', async () => {
    const bytes = iconv.encode(GBK_FEED.replace(/^<\?xml[^>]*>\n/, ''), 'gbk');
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml; charset=GBK' });
      res.end(bytes);
    });
    const items = await rss(`${server.base}/feed`).poll(ctx({ allowPrivate: true }));
    expect(items[1].title).toBe('县市场监管局公布农贸市场快检结果');
  });

  it('resolves relative links against the final URL after redirects', async () => {
    const cdata = readFileSync(path.join(FIXTURES, 'rss2-cdata.xml'));
    server = await serve((req, res) => {
      if (req.url === '/old') res.writeHead(301, { location: '/feeds/news.xml' }).end();
      else res.end(cdata);
    });
    const [first] = await rss(`${server.base}/old`).poll(ctx({ allowPrivate: true }));
    expect(first.url).toBe(`${server.base}/news/2026/1129/a1.html`);
  });

  it('is refused without allowPrivate, and allowed by the source option', async () => {
    server = await serve((_req, res) => res.end(readFileSync(path.join(FIXTURES, 'rss2-bom.xml'))));
    const e = await rss(`${server.base}/feed`).poll(ctx()).catch((err: unknown) => err);
    expect((e as Error).message).toMatch(/refusing to connect to 127\.0\.0\.1/);
    expect(server.requests).toHaveLength(0);
    const items = await rss(`${server.base}/feed`, { allowPrivate: true }).poll(ctx());
    expect(items).toHaveLength(1);
  });

  it('honours the configured timeout', async () => {
    server = await serve(() => {});
    const e = await rss(`${server.base}/feed`, { timeout: '200ms' }).poll(ctx({ allowPrivate: true })).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as SourceError).retriable).toBe(true);
    expect((e as Error).message).toMatch(/timed out after 0\.2 s/);
  });
});

describe('rss source: conditional GET', () => {
  const FEED = () => readFileSync(path.join(FIXTURES, 'rss2-cdata.xml'));

  function conditionalServer() {
    return serve((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
      res.writeHead(200, { etag: '"v1"', 'last-modified': 'Sat, 29 Nov 2026 04:00:00 GMT', 'content-type': 'application/rss+xml' });
      res.end(FEED());
    });
  }

  it('sends the ETag and Last-Modified back once acknowledged; a 304 yields no items and counts as success', async () => {
    server = await conditionalServer();
    const src = rssSource(`${server.base}/feed`, { allowPrivate: true });
    const first = await src.poll(ctx());
    expect(first).toHaveLength(4);
    expect(src.lastReport()).toMatchObject({ type: 'fetch', items: 4, notModified: false, bytes: FEED().length, pages: 1 });
    await src.acknowledge();
    const second = await src.poll(ctx());
    expect(second).toEqual([]);
    expect(src.lastReport()).toMatchObject({ items: 0, notModified: true, bytes: 0 });
    expect(server.requests[1].headers).toMatchObject({ 'if-none-match': '"v1"', 'if-modified-since': 'Sat, 29 Nov 2026 04:00:00 GMT' });
    expect(server.requests[0].headers['if-none-match']).toBeUndefined();
  });

  it('does not send validators before acknowledge, so items of a poll whose publish failed come again', async () => {
    server = await conditionalServer();
    const src = rssSource(`${server.base}/feed`, { allowPrivate: true });
    await src.poll(ctx());
    // no acknowledge(): the runner could not publish
    expect(await src.poll(ctx())).toHaveLength(4);
    expect(server.requests[1].headers['if-none-match']).toBeUndefined();
  });

  it('a 304 to a request we did not make conditional is an error', async () => {
    server = await serve((_req, res) => res.writeHead(304).end());
    const e = await rss(`${server.base}/feed`, { allowPrivate: true }).poll(ctx()).catch((err: unknown) => err);
    expect((e as Error).message).toMatch(/HTTP 304/);
  });

  it('lastReport is null before the first poll and the report of a local file has no bytes over the wire', async () => {
    const src = rssSource('rss2-bom.xml');
    expect(src.lastReport()).toBeNull();
    await src.poll(ctx());
    expect(src.lastReport()).toMatchObject({ type: 'fetch', url: path.join(FIXTURES, 'rss2-bom.xml'), items: 1, notModified: false });
  });
});

describe('rss source: full-article fetch', () => {
  const feed = (base: string) => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>市局要闻</title>
<item><title>某小学食堂食物中毒事件通报</title><link>${base}/a/1.html</link><description>摘要：学生呕吐。</description></item>
<item><title>快检结果公示</title><link>${base}/a/2.html</link><description>摘要：快检结果。</description></item>
<item><title>没有链接</title><guid isPermaLink="false">x-3</guid><description>只有摘要。</description></item>
</channel></rss>`;

  function newsSite() {
    return serve((req, res) => {
      if (req.url === '/feed') {
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        return res.end(feed(server!.base));
      }
      if (req.url === '/a/1.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=gbk' });
        return res.end(
          iconv.encode(
            '<html><body><div class="nav">首页</div><div class="detail"><p>11月29日中午，某小学二十余名学生午餐后出现呕吐症状。</p><p>市场监管部门已封存留样。</p></div></body></html>',
            'gbk',
          ),
        );
      }
      res.writeHead(503).end();
    });
  }

  it('replaces the summary with the article text found by the configured selector', async () => {
    server = await newsSite();
    const src = rssSource(`${server.base}/feed`, { allowPrivate: true, fullText: { selector: '.detail' } });
    const items = await src.poll(ctx());
    expect(items[0].body).toBe('11月29日中午，某小学二十余名学生午餐后出现呕吐症状。\n市场监管部门已封存留样。');
    expect(items[1].body).toBe('摘要：快检结果。'); // its page answered 503: the summary stays
    expect(items[2].body).toBe('只有摘要。');
    expect(src.lastReport()).toMatchObject({ articles: { fetched: 1, failed: 1, deferred: 0 } });
    expect(src.lastReport()!.warnings).toEqual([expect.stringMatching(/^article .*\/a\/2\.html: .*HTTP 503/)]);
  });

  it('fetches each article once, retries a retriable failure on the next poll, and keeps the body on re-emission', async () => {
    server = await newsSite();
    const src = rssSource(`${server.base}/feed`, { allowPrivate: true, fullText: { selector: '.detail' } });
    await src.poll(ctx());
    const again = await src.poll(ctx());
    expect(again[0].body).toMatch(/^11月29日中午/);
    const hits = (u: string) => server!.requests.filter((r) => r.url === u).length;
    expect(hits('/a/1.html')).toBe(1);
    expect(hits('/a/2.html')).toBe(2);
  });

  it('respects the per-poll cap (max)', async () => {
    server = await newsSite();
    const src = rssSource(`${server.base}/feed`, { allowPrivate: true, fullText: { max: 1 } });
    await src.poll(ctx());
    expect(src.lastReport()!.articles).toEqual({ fetched: 1, failed: 0, deferred: 1 });
  });

  it('with robots: true skips articles robots.txt disallows, as a warning', async () => {
    server = await serve((req, res) => {
      if (req.url === '/robots.txt') return res.end('User-agent: FoodSafetySentinel\nDisallow: /a/\n');
      if (req.url === '/feed') return res.end(feed(server!.base));
      res.end('<p>不应被抓取</p>');
    });
    const base = rssSource(`${server.base}/feed`, { allowPrivate: true, robots: true, fullText: {} });
    const src = new RssSource(base.config, { robots: new RobotsCache() });
    const items = await src.poll(ctx());
    expect(items[0].body).toBe('摘要：学生呕吐。');
    expect(src.lastReport()!.warnings[0]).toMatch(/disallows this URL for FoodSafetySentinel/);
    expect(server.requests.map((r) => r.url)).toEqual(['/robots.txt', '/feed']);
  });
});
