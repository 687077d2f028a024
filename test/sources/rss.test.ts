import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { RawItem } from '../../src/core/types.ts';
import { itemId } from '../../src/core/ids.ts';
import { SourceError } from '../../src/sources/errors.ts';
import { createSource } from '../../src/sources/registry.ts';
import { GBK_FEED } from '../fixtures/sources/make-encoded.ts';
import { ctx, FIXTURES, NOW, serve, type TestServer } from './helpers.ts';

const where = { file: 'test.yaml', path: 'sources[0]' };
const rss = (url: string, extra: Record<string, unknown> = {}) => createSource({ id: 'feed', type: 'rss', url, ...extra }, where);

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
