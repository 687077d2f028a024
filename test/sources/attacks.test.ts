/**
 * The attack and edge suite: hostile or broken feeds and servers. Each case ends with a clear
 * error (or a clearly bounded result), never a hang. All traffic stays on 127.0.0.1: a tripwire
 * on net.Socket.prototype.connect fails the suite if anything tries to leave.
 */
import { readFileSync } from 'node:fs';
import net, { isIP } from 'node:net';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenAddressError, SourceError } from '../../src/sources/errors.ts';
import { guardedFetch } from '../../src/sources/fetch.ts';
import { MAX_TITLE_CHARS } from '../../src/sources/feed.ts';
import { isForbiddenAddress } from '../../src/sources/ip-guard.ts';
import { createSource } from '../../src/sources/registry.ts';
import { BIG5_FEED, BOM_FEED } from '../fixtures/sources/make-encoded.ts';
import { ctx, FIXTURES, serve, type TestServer } from './helpers.ts';

const where = { file: 'test.yaml', path: 'sources[0]' };
const rss = (url: string, extra: Record<string, unknown> = {}) => createSource({ id: 'feed', type: 'rss', url, ...extra }, where);

// ---- tripwire: no connection may go anywhere but loopback -------------------------------------
const leaks: string[] = [];
const isLoopback = (a: string) => a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1';
const realConnect = net.Socket.prototype.connect;
type LookupCb = (err: Error | null, address: string | { address: string }[], family?: number) => void;
beforeAll(() => {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const o = (typeof args[0] === 'object' && args[0] !== null ? args[0] : {}) as net.TcpNetConnectOpts;
    if (o.host && isIP(o.host) && !isLoopback(o.host)) {
      leaks.push(o.host);
      throw new Error(`tripwire: connection to ${o.host} blocked by the test`);
    }
    if (typeof o.lookup === 'function') {
      const inner = o.lookup;
      o.lookup = ((host: string, opts: object, cb: LookupCb) =>
        inner(host, opts as never, ((err: Error | null, address: string | { address: string }[], family?: number) => {
          const addrs = Array.isArray(address) ? address.map((a) => a.address) : address ? [address] : [];
          const bad = addrs.find((a) => !isLoopback(a));
          if (!err && bad) {
            leaks.push(bad);
            return cb(new Error(`tripwire: ${host} → ${bad} blocked by the test`), '', 0);
          }
          cb(err, address, family);
        }) as never)) as never;
    }
    return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof realConnect;
});
afterAll(() => {
  net.Socket.prototype.connect = realConnect;
  expect(leaks).toEqual([]);
});

/** The real address policy, with an exception for the test server on 127.0.0.1 only. */
const onlyLoopbackAllowed = (ip: string) => (isLoopback(ip) ? false : isForbiddenAddress(ip));

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function pollError(url: string, extra: Record<string, unknown> = {}): Promise<SourceError> {
  const e = await rss(url, extra)
    .poll(ctx({ allowPrivate: true }))
    .then(
      () => null,
      (err: unknown) => err,
    );
  expect(e).toBeInstanceOf(SourceError);
  return e as SourceError;
}

describe('XML attacks', () => {
  it('billion laughs (nested entities) is refused before parsing, without expansion', async () => {
    const e = await pollError('attacks/billion-laughs.xml');
    expect(e.message).toMatch(/billion-laughs\.xml: not an RSS\/Atom feed: refusing a DTD that declares entities \(entity expansion: billion laughs attack\?\)/);
    expect(e.message.length).toBeLessThan(300); // nothing expanded into the message
    expect(e.retriable).toBe(false);
  });

  it('XXE (an external entity reading file:///etc/passwd) is refused without reading the file', async () => {
    const e = await pollError('attacks/xxe.xml');
    expect(e.message).toMatch(/refusing a DTD that declares entities \(external entity: XXE attack\?\)/);
    expect(e.message).not.toMatch(/root:/);
  });

  it('an external parameter entity pointing at the metadata address is refused, and nothing is fetched', async () => {
    const e = await pollError('attacks/xxe-parameter.xml');
    expect(e.message).toMatch(/external entity: XXE attack\?/);
  });

  it('the same attacks served over http are refused the same way', async () => {
    const lol = readFileSync(path.join(FIXTURES, 'attacks/billion-laughs.xml'));
    server = await serve((_req, res) => res.end(lol));
    expect((await pollError(`${server.base}/feed`)).message).toMatch(/billion laughs/);
  });
});

describe('hostile servers', () => {
  it('a server that never answers hits the deadline (retriable)', async () => {
    server = await serve(() => {});
    const e = await pollError(`${server.base}/hang`, { timeout: '300ms' });
    expect(e.message).toMatch(/timed out after 0\.3 s/);
    expect(e.retriable).toBe(true);
  });

  it('a server trickling one byte every 100 ms hits the deadline for the whole exchange', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      const t = setInterval(() => res.write('<'), 100);
      res.on('close', () => clearInterval(t));
    });
    const e = await pollError(`${server.base}/trickle`, { timeout: '600ms' });
    expect(e.message).toMatch(/timed out after 0\.6 s/);
  });

  it('an endless body is cut at the size cap', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const e = await pollError(`${server.base}/endless`, { maxBytes: 1024 * 1024 });
    expect(e.message).toMatch(/response exceeds the 1 MB limit/);
    expect(e.retriable).toBe(false);
  });

  it('redirects forever: stopped after 5 hops', async () => {
    server = await serve((req, res) => res.writeHead(302, { location: `/r${(req.url ?? '').length}` }).end());
    const e = await pollError(`${server.base}/start`);
    expect(e.message).toMatch(/too many redirects \(more than 5\)/);
    expect(server.requests).toHaveLength(6);
  });

  it.each([
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/iam/', '169.254.169.254'],
    ['a private address', 'http://10.0.0.1/admin', '10.0.0.1'],
    ['IPv4-mapped IPv6 metadata', 'http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe'], // the URL parser normalises the mapped form
  ])('a redirect to %s is refused (checked on every hop)', async (_what, location, address) => {
    server = await serve((_req, res) => res.writeHead(302, { location }).end());
    // Loopback is allowed for the test server only; everything else keeps the real policy.
    const e = await guardedFetch(`${server.base}/feed`, { isForbidden: onlyLoopbackAllowed }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ForbiddenAddressError);
    expect((e as ForbiddenAddressError).address).toBe(address);
    expect((e as Error).message).toMatch(/refusing to connect to/);
  });

  it('a redirect to a name that resolves to 10.0.0.1 is refused at lookup', async () => {
    server = await serve((_req, res) => res.writeHead(302, { location: 'http://intranet.example.test/' }).end());
    const resolve = async (h: string) => [{ address: h === 'intranet.example.test' ? '10.0.0.1' : '127.0.0.1', family: 4 }];
    const e = await guardedFetch(`${server.base}/feed`, { resolve, isForbidden: onlyLoopbackAllowed }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ForbiddenAddressError);
    expect((e as Error).message).toMatch(/refusing to connect to 10\.0\.0\.1 \(intranet\.example\.test\)/);
  });
});

describe('broken and odd feeds', () => {
  const bigTitleFeed = (mb: number) =>
    `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>超长标题</title><item><guid>big-1</guid><title>${'食'.repeat((mb * 1024 * 1024) / 3)}</title><description>正文</description></item></channel></rss>`;

  it('a feed with a 10 MB title is over the default 10 MB cap: a clear size error', async () => {
    const body = Buffer.from(bigTitleFeed(10));
    server = await serve((_req, res) => res.end(body));
    const e = await pollError(`${server.base}/feed`);
    expect(e.message).toMatch(/exceeds the 10 MB limit/);
  });

  it('with a larger cap the 10 MB title is read and cut to the title limit', async () => {
    const body = Buffer.from(bigTitleFeed(10));
    server = await serve((_req, res) => res.end(body));
    const [item] = await rss(`${server.base}/feed`, { maxBytes: 12 * 1024 * 1024 }).poll(ctx({ allowPrivate: true }));
    expect(item.title).toHaveLength(MAX_TITLE_CHARS + 1);
    expect(item.title.endsWith('食…')).toBe(true);
    expect(item.body).toBe('正文');
  });

  it('binary garbage is not a feed', async () => {
    let x = 0x2545f491;
    const garbage = Buffer.alloc(64 * 1024, 0).map(() => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 0xff;
    });
    server = await serve((_req, res) => res.end(garbage));
    const e = await pollError(`${server.base}/feed`);
    expect(e.message).toMatch(/not an RSS\/Atom feed/);
  });

  it('an empty 200 response is "the document is empty"', async () => {
    server = await serve((_req, res) => res.end());
    expect((await pollError(`${server.base}/feed`)).message).toMatch(/not an RSS\/Atom feed: the document is empty/);
  });

  it('a feed that declares UTF-8 but is GBK is detected, decoded, and the lie is reported', async () => {
    const src = rss('rss2-lying-utf8.xml');
    const [item] = await src.poll(ctx());
    expect(item.title).toBe('区市场监管局查处一起销售病死猪肉案件');
    expect(item.body).toBe('执法人员现场查扣病死猪肉约200公斤，已移送公安机关。');
    expect(src.lastReport!()).toMatchObject({ warnings: ['declared UTF-8 but the bytes are not; read as gb18030'] });
  });

  it('a Big5 feed without any label (no header, no declaration) is detected', async () => {
    const bytes = iconv.encode(BIG5_FEED.replace(/^<\?xml[^>]*>\n/, ''), 'big5');
    server = await serve((_req, res) => res.end(bytes));
    const [item] = await rss(`${server.base}/feed`).poll(ctx({ allowPrivate: true }));
    expect(item.title).toBe('邊境查驗不合格食品　進口商已退運銷毀');
  });

  it('a feed with a UTF-8 BOM wins over a wrong HTTP charset', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BOM_FEED)]);
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=gbk' });
      res.end(bytes);
    });
    const [item] = await rss(`${server.base}/feed`).poll(ctx({ allowPrivate: true }));
    expect(item.title).toBe('网传“塑料紫菜”系谣言');
  });
});
