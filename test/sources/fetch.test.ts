import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FetchError, ForbiddenAddressError } from '../../src/sources/errors.ts';
import { guardedFetch, USER_AGENT } from '../../src/sources/fetch.ts';
import { serve, type TestServer } from './helpers.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function failure(p: Promise<unknown>): Promise<FetchError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FetchError);
  return e as FetchError;
}

describe('guardedFetch', () => {
  it('fetches the body and sends our User-Agent', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml; charset=gbk' });
      res.end('<rss/>');
    });
    const res = await guardedFetch(`${server.base}/feed.xml`, { allowPrivate: true });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('<rss/>');
    expect(res.contentType).toBe('application/rss+xml; charset=gbk');
    expect(server.requests[0].headers['user-agent']).toBe(USER_AGENT);
  });

  it('refuses 127.0.0.1 without allowPrivate, before any connection', async () => {
    server = await serve((_req, res) => res.end('secret'));
    const e = await failure(guardedFetch(`${server.base}/`));
    expect(e).toBeInstanceOf(ForbiddenAddressError);
    expect(e.message).toMatch(/refusing to connect to 127\.0\.0\.1/);
    expect(e.retriable).toBe(false);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a name that resolves to loopback (checked at connect time by our lookup)', async () => {
    server = await serve((_req, res) => res.end('secret'));
    const e = await failure(guardedFetch(`http://localhost:${server.port}/`));
    expect(e).toBeInstanceOf(ForbiddenAddressError);
    expect(e.message).toMatch(/refusing to connect to (127\.0\.0\.1|::1) \(localhost\)/);
    expect(server.requests).toHaveLength(0);
  });

  it('connects to exactly the address its guarded lookup approved (DNS rebinding has no second answer to use)', async () => {
    server = await serve((req, res) => res.end(`host=${req.headers.host}`));
    const resolve = async (h: string) => (h === 'feeds.example.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
    const url = `http://feeds.example.test:${server.port}/rss`;
    const refused = await failure(guardedFetch(url, { resolve }));
    expect(refused).toBeInstanceOf(ForbiddenAddressError);
    expect(refused.message).toContain('127.0.0.1 (feeds.example.test)');
    expect(server.requests).toHaveLength(0);
    const ok = await guardedFetch(url, { resolve, allowPrivate: true });
    expect(ok.body.toString()).toBe(`host=feeds.example.test:${server.port}`);
  });

  it('re-checks every redirect hop against the address policy', async () => {
    server = await serve((req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: '/internal' }).end();
      else res.end('should never be served');
    });
    // The same address turns forbidden once it has served a request: only a re-check stops hop two.
    const isForbidden = () => server!.requests.length > 0;
    const e = await failure(guardedFetch(`${server.base}/start`, { isForbidden }));
    expect(e).toBeInstanceOf(ForbiddenAddressError);
    expect(server.requests.map((r) => r.url)).toEqual(['/start']);
  });

  it('re-checks a redirect to a host name through the guarded lookup', async () => {
    server = await serve((req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: `http://metadata.example.test:${server!.port}/latest` }).end();
      else res.end('should never be served');
    });
    // Resolves to 127.0.0.1 so that even a broken guard could not send traffic anywhere else.
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const isForbidden = () => server!.requests.length > 0;
    const e = await failure(guardedFetch(`${server.base}/start`, { isForbidden, resolve }));
    expect(e).toBeInstanceOf(ForbiddenAddressError);
    expect(e.message).toContain('127.0.0.1 (metadata.example.test)');
    expect(server.requests.map((r) => r.url)).toEqual(['/start']);
  });

  it('follows relative redirects and reports the final URL', async () => {
    server = await serve((req, res) => {
      const n = Number(req.url?.slice(1));
      if (n < 3) res.writeHead(301, { location: `/${n + 1}` }).end();
      else res.end(`landed on ${n}`);
    });
    const res = await guardedFetch(`${server.base}/0`, { allowPrivate: true });
    expect(res.body.toString()).toBe('landed on 3');
    expect(res.url).toBe(`${server.base}/3`);
    expect(res.redirects).toHaveLength(3);
  });

  it('stops after 5 redirects', async () => {
    server = await serve((req, res) => res.writeHead(302, { location: `${req.url}x` }).end());
    const e = await failure(guardedFetch(`${server.base}/r`, { allowPrivate: true }));
    expect(e.message).toMatch(/too many redirects \(more than 5\)/);
    expect(server.requests).toHaveLength(6);
  });

  it('refuses a redirect to a scheme other than http(s)', async () => {
    server = await serve((_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
    const e = await failure(guardedFetch(`${server.base}/`, { allowPrivate: true }));
    expect(e.message).toMatch(/only http and https are fetched, not file/);
  });

  it('refuses non-http URLs outright', async () => {
    const e = await failure(guardedFetch('ftp://example.com/feed.xml'));
    expect(e.message).toMatch(/only http and https/);
  });

  it('caps the body while streaming, without trusting Content-Length', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' }); // chunked, no length announced
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    const e = await failure(guardedFetch(`${server.base}/big`, { allowPrivate: true, maxBytes: 100 * 1024 }));
    expect(e.message).toMatch(/exceeds the 102400 bytes limit/);
    expect(e.retriable).toBe(false);
  });

  it('refuses early when Content-Length already exceeds the cap', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(20 * 1024 * 1024) });
      res.write('x');
    });
    const e = await failure(guardedFetch(`${server.base}/`, { allowPrivate: true }));
    expect(e.message).toMatch(/response of 20 MB exceeds the 10 MB limit/);
  });

  it('caps the decompressed size of a gzip body (zip bombs)', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(2 * 1024 * 1024));
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    expect(bomb.length).toBeLessThan(64 * 1024);
    const e = await failure(guardedFetch(`${server.base}/`, { allowPrivate: true, maxBytes: 1024 * 1024 }));
    expect(e.message).toMatch(/exceeds the 1 MB limit/);
  });

  it('decompresses gzip bodies', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync('<rss>压缩</rss>'));
    });
    const res = await guardedFetch(`${server.base}/`, { allowPrivate: true });
    expect(res.body.toString()).toBe('<rss>压缩</rss>');
  });

  it('gives up at the deadline when the server never answers, as a retriable error', async () => {
    server = await serve(() => {
      /* never responds */
    });
    const e = await failure(guardedFetch(`${server.base}/slow`, { allowPrivate: true, timeoutMs: 200 }));
    expect(e.message).toMatch(/timed out after 0\.2 s/);
    expect(e.retriable).toBe(true);
  });

  it('the deadline covers a body that trickles forever', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(t));
    });
    const e = await failure(guardedFetch(`${server.base}/trickle`, { allowPrivate: true, timeoutMs: 300 }));
    expect(e.message).toMatch(/timed out/);
  });

  it('stops when the caller aborts', async () => {
    server = await serve(() => {});
    const ac = new AbortController();
    const p = guardedFetch(`${server.base}/`, { allowPrivate: true, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const e = await failure(p);
    expect(e.message).toMatch(/aborted/);
  });

  it('reports HTTP errors with the status; 5xx is retriable, 404 is not', async () => {
    server = await serve((req, res) => res.writeHead(req.url === '/gone' ? 404 : 503).end());
    const notFound = await failure(guardedFetch(`${server.base}/gone`, { allowPrivate: true }));
    expect(notFound.message).toMatch(/HTTP 404 Not Found/);
    expect(notFound.status).toBe(404);
    expect(notFound.retriable).toBe(false);
    const busy = await failure(guardedFetch(`${server.base}/busy`, { allowPrivate: true }));
    expect(busy.status).toBe(503);
    expect(busy.retriable).toBe(true);
  });

  it('reports a refused connection as a retriable network error', async () => {
    server = await serve(() => {});
    const port = server.port;
    await server.close();
    server = undefined;
    const e = await failure(guardedFetch(`http://127.0.0.1:${port}/`, { allowPrivate: true }));
    expect(e.message).toMatch(/network error: ECONNREFUSED/);
    expect(e.retriable).toBe(true);
  });
});
