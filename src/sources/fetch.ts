import { promises as dns, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { FetchError, ForbiddenAddressError } from './errors.ts';
import { isForbiddenAddress } from './ip-guard.ts';

export const USER_AGENT = 'FoodSafetySentinel/0.1 (+duty desk)';
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;

export interface FetchOptions {
  /** the caller's cancellation (shutdown); combined with the deadline */
  signal?: AbortSignal;
  /** deadline for the whole exchange, redirects and body included */
  timeoutMs?: number;
  /** cap on the body after decompression; Content-Length is not trusted */
  maxBytes?: number;
  maxRedirects?: number;
  /** allow loopback/private/link-local targets (an intranet source, or tests on 127.0.0.1) */
  allowPrivate?: boolean;
  headers?: Record<string, string>;
  /** DNS seam for tests (e.g. a name that "rebinds" to 127.0.0.1); defaults to the system resolver */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
  /** address policy seam for tests; defaults to isForbiddenAddress */
  isForbidden?: (ip: string) => boolean;
}

export interface FetchResponse {
  /** final URL after redirects */
  url: string;
  /** 2xx, or 304 when the request carried If-None-Match / If-Modified-Since (body then empty) */
  status: number;
  headers: IncomingHttpHeaders;
  contentType?: string;
  body: Buffer;
  /** every URL visited before the final one */
  redirects: string[];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function mb(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MB` : `${n} bytes`;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

interface Guard {
  allowPrivate: boolean;
  isForbidden: (ip: string) => boolean;
  resolve: (hostname: string) => Promise<LookupAddress[]>;
}

/**
 * A `lookup` for http.request: the address checked is the address the socket then connects to,
 * so a name that resolves to a public address for a pre-check and to 169.254.169.254 a moment
 * later (DNS rebinding) still cannot get through.
 */
function guardedLookup(url: string, guard: Guard): LookupFunction {
  return (hostname, options, callback) => {
    guard.resolve(hostname).then(
      (addrs) => {
        if (addrs.length === 0) {
          const e = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          return callback(e, '', 0);
        }
        if (!guard.allowPrivate) {
          const bad = addrs.find((a) => guard.isForbidden(a.address));
          if (bad) return callback(new ForbiddenAddressError(url, `${bad.address} (${hostname})`), '', 0);
        }
        if (options.all) callback(null, addrs);
        else callback(null, addrs[0].address, addrs[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

function requestOnce(url: URL, guard: Guard, headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
  const host = stripBrackets(url.hostname);
  if (isIP(host) && !guard.allowPrivate && guard.isForbidden(host)) {
    // Node skips `lookup` for IP literals, so they are checked here and again on connect.
    return Promise.reject(new ForbiddenAddressError(url.href, host));
  }
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, {
      method: 'GET',
      headers,
      signal,
      agent: false,
      lookup: guardedLookup(url.href, guard),
    });
    const checked = new WeakSet<Socket>();
    const checkPeer = (socket: Socket) => {
      if (checked.has(socket)) return true;
      checked.add(socket);
      const peer = socket.remoteAddress;
      if (!guard.allowPrivate && peer && guard.isForbidden(peer)) {
        req.destroy(new ForbiddenAddressError(url.href, peer));
        return false;
      }
      return true;
    };
    req.on('socket', (socket: Socket) => socket.once('connect', () => checkPeer(socket)));
    // Checked again on response in case a socket connected without a 'connect' event we saw.
    req.on('response', (res) => {
      if (checkPeer(res.socket)) resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

async function readBody(res: IncomingMessage, url: string, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw new FetchError(url, `response of ${mb(declared)} exceeds the ${mb(maxBytes)} limit`);
  }
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  let stream: Readable = res;
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : null;
  if (decoder) {
    res.on('error', (e) => decoder.destroy(e));
    stream = res.pipe(decoder);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        throw new FetchError(url, `response exceeds the ${mb(maxBytes)} limit`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof FetchError) throw e;
    if (decoder && !res.destroyed) {
      throw new FetchError(url, `cannot decode ${encoding} body: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  } finally {
    res.destroy();
    decoder?.destroy();
  }
  return Buffer.concat(chunks);
}

function describeNetworkError(e: NodeJS.ErrnoException): string {
  return e.code ? `${e.code}${e.message && !e.message.includes(e.code) ? ` (${e.message})` : ''}` : e.message;
}

/**
 * GET one URL under the guard: http/https only, an overall deadline, a streamed size cap, at most
 * `maxRedirects` hops each checked again, and no connection to internal addresses unless allowed.
 * This is the only door to the network for sources; never use rss-parser's parseURL.
 */
export async function guardedFetch(target: string, opts: FetchOptions = {}): Promise<FetchResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const guard: Guard = {
    allowPrivate: opts.allowPrivate ?? false,
    isForbidden: opts.isForbidden ?? isForbiddenAddress,
    resolve: opts.resolve ?? ((h) => dns.lookup(h, { all: true, verbatim: true })),
  };
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
    'accept-encoding': 'gzip, deflate, br',
    ...Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;

  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new FetchError(target, 'not a valid URL');
  }
  const redirects: string[] = [];
  try {
    for (;;) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new FetchError(url.href, `only http and https are fetched, not ${url.protocol.replace(/:$/, '')}`);
      }
      const res = await requestOnce(url, guard, headers, signal);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.destroy();
        if (redirects.length >= maxRedirects) {
          throw new FetchError(url.href, `too many redirects (more than ${maxRedirects})`);
        }
        redirects.push(url.href);
        try {
          url = new URL(location, url);
        } catch {
          throw new FetchError(url.href, `redirect to an invalid location: ${location}`);
        }
        continue;
      }
      // 304 answers our own If-None-Match / If-Modified-Since: "nothing new", a success with no body.
      if (status === 304 && (headers['if-none-match'] || headers['if-modified-since'])) {
        res.destroy();
        return { url: url.href, status, headers: res.headers, contentType: res.headers['content-type'], body: Buffer.alloc(0), redirects };
      }
      if (status < 200 || status > 299) {
        res.destroy();
        throw new FetchError(url.href, `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, {
          status,
          retriable: status >= 500 || status === 429 || status === 408,
        });
      }
      const body = await readBody(res, url.href, maxBytes);
      const ct = res.headers['content-type'];
      return { url: url.href, status, headers: res.headers, contentType: ct, body, redirects };
    }
  } catch (e) {
    if (e instanceof FetchError) throw e;
    if (deadline.aborted) {
      throw new FetchError(url.href, `timed out after ${timeoutMs / 1000} s`, { retriable: true, cause: e });
    }
    if (opts.signal?.aborted) throw new FetchError(url.href, 'aborted', { cause: e });
    throw new FetchError(url.href, `network error: ${describeNetworkError(e as NodeJS.ErrnoException)}`, {
      retriable: true,
      cause: e,
    });
  }
}
