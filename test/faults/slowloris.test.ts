import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { HTTP_LIMITS, startDesk, type HttpLimits } from '../../src/desk/server.ts';
import { PUSH_BODY_LIMIT } from '../../src/desk/push.ts';
import { Accounts } from '../../src/auth/accounts.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { MemoryStore } from '../desk/memory-store.ts';
import { ROUNDS, sleep } from './helpers.ts';

/**
 * Slow clients against the desk's HTTP server, over real TCP sockets. A client that trickles its
 * headers or its body must be cut off once the server's deadline has passed, however many of them
 * there are, while ordinary requests keep being answered; headers over the size limit are a 431.
 * The server runs with short deadlines (the same code path, only smaller numbers) so the test
 * does not wait a minute; the shipped numbers are checked separately.
 */

const LIMITS: Partial<HttpLimits> = {
  headersTimeoutMs: 2_000,
  requestTimeoutMs: 4_000,
  // longer than the trickle interval, so the header and body deadlines are what cuts the tricklers
  idleTimeoutMs: 6_000,
  checkIntervalMs: 100,
};
/** A deadline may be overrun by one check interval; the rest is room for a loaded CI machine. */
const SLACK_MS = 5_000;
const SLOW_CLIENTS = 200;
const TRICKLE_EVERY_MS = 1_000;

interface SlowClient {
  /** Everything the server sent back. */
  received: () => string;
  /** Resolves when the server closed the connection, with how long the socket lived. */
  closed: Promise<{ afterMs: number; byServer: boolean }>;
  /** Bytes the client managed to send before it was cut off. */
  sent: () => number;
  destroy: () => void;
}

/**
 * Opens a socket, sends `head` at once and then one byte of `drip` every TRICKLE_EVERY_MS for as
 * long as the server keeps the socket open (`drip` empty: sends nothing more at all).
 */
function slowClient(port: number, head: string, drip: string, giveUpMs: number): SlowClient {
  const started = Date.now();
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let sent = 0;
  let byUs = false;
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write(head);
    sent += Buffer.byteLength(head);
    if (drip) {
      timer = setInterval(() => {
        if (socket.writable) {
          socket.write(drip[sent % drip.length]!);
          sent++;
        }
      }, TRICKLE_EVERY_MS);
    }
  });
  const giveUp = setTimeout(() => {
    byUs = true;
    socket.destroy();
  }, giveUpMs);
  const closed = new Promise<{ afterMs: number; byServer: boolean }>((res) =>
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      res({ afterMs: Date.now() - started, byServer: !byUs });
    }),
  );
  return {
    received: () => received,
    closed,
    sent: () => sent,
    destroy: () => {
      byUs = true;
      socket.destroy();
    },
  };
}

/** One whole request over a fresh socket; resolves with the status line once the server closes. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((res, rej) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', rej);
    socket.on('connect', () => socket.end(request));
    socket.on('close', () => res(received.split('\r\n')[0] ?? ''));
  });
}

/** A status line the server may send when it gives up on a request it has not answered: 408, or nothing. */
const cutOff = (received: string) => received === '' || received.startsWith('HTTP/1.1 408 ');

describe('the desk under slow clients (slowloris)', () => {
  let desk: Awaited<ReturnType<typeof startDesk>>;
  let port = 0;
  let pushToken = '';
  const healthz = async () => (await fetch(`${desk.url}/healthz`)).status;

  beforeAll(async () => {
    const accounts = new Accounts(openDatabase(':memory:'));
    pushToken = accounts.createToken('yudu-12345', 'push').token;
    desk = await startDesk(
      {
        store: new MemoryStore(),
        health: async () => ({ store: 'ok' }),
        accounts,
        ingestComplaints: async (items) => ({ fresh: items.length, duplicates: 0, freshIds: items.map((i) => i.id) }),
      },
      { port: 0, limits: LIMITS },
    );
    port = Number(new URL(desk.url).port);
  });
  afterAll(async () => desk?.close());

  it(`cuts off ${SLOW_CLIENTS} clients sending a header byte a second, and keeps answering others meanwhile`, async () => {
    const bound = LIMITS.headersTimeoutMs! + LIMITS.checkIntervalMs! + SLACK_MS;
    for (let round = 0; round < ROUNDS; round++) {
      const slow = Array.from({ length: SLOW_CLIENTS }, () =>
        // a request line, then a header that never ends: the server never sees the blank line
        slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: desk\r\nX-Slow: ', 'abcdefghij', bound * 3),
      );
      let attackOver = false;
      const allClosed = Promise.all(slow.map((c) => c.closed)).finally(() => (attackOver = true));
      const answered: number[] = [];
      // an ordinary client keeps asking while the slow ones hold their sockets
      while (!attackOver) {
        answered.push(await healthz());
        await sleep(20);
      }
      const closes = await allClosed;

      expect(answered.length, 'requests answered during the attack').toBeGreaterThan(0);
      expect(answered.filter((s) => s !== 200), 'ordinary requests refused during the attack').toEqual([]);
      expect(closes.filter((c) => !c.byServer).length, 'slow clients the server never cut off').toBe(0);
      expect(Math.max(...closes.map((c) => c.afterMs)), 'longest a slow client held its socket (ms)').toBeLessThan(bound);
      expect(slow.filter((c) => !cutOff(c.received())).map((c) => c.received()), 'slow clients that got a real answer').toEqual([]);
      // the server is still whole afterwards
      expect(await healthz()).toBe(200);
      process.stdout.write(
        `[faults] slowloris headers | round ${round + 1}/${ROUNDS} | ${SLOW_CLIENTS} slow sockets cut after ≤ ${Math.max(...closes.map((c) => c.afterMs))} ms | ${answered.length} ordinary requests answered meanwhile, all 200\n`,
      );
    }
  }, 120_000);

  it('cuts off a client that never finishes its body: trickling it, or stopping halfway', async () => {
    const bound = LIMITS.requestTimeoutMs! + LIMITS.checkIntervalMs! + SLACK_MS;
    const login = 'POST /api/v1/login HTTP/1.1\r\nHost: desk\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":"';
    const push =
      `POST /api/v1/complaints HTTP/1.1\r\nHost: desk\r\nAuthorization: Bearer ${pushToken}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${PUSH_BODY_LIMIT}\r\n\r\n[{"登记编号":"`;
    const clients = [
      { what: 'anonymous login, a body byte a second', c: slowClient(port, login, 'abcdefghij', bound * 3) },
      { what: 'anonymous login, body stops halfway', c: slowClient(port, login, '', bound * 3) },
      { what: 'push sender, a body byte a second', c: slowClient(port, push, '0123456789', bound * 3) },
      { what: 'push sender, body stops halfway', c: slowClient(port, push, '', bound * 3) },
    ];
    // a normal push is served while they hang
    const ok = await fetch(`${desk.url}/api/v1/complaints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pushToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 登记编号: 'N1', 登记时间: '2026-11-29 08:15:00', 诉求内容: '午餐后多名学生呕吐。', 所属区域: '360731' }),
    });
    expect(ok.status).toBe(200);
    for (const { what, c } of clients) {
      const { byServer, afterMs } = await c.closed;
      expect(byServer, `${what}: cut off by the server`).toBe(true);
      expect(afterMs, `${what}: how long it held the socket (ms)`).toBeLessThan(bound);
      expect(cutOff(c.received()), `${what}: answer ${JSON.stringify(c.received().slice(0, 80))}`).toBe(true);
    }
    expect(await healthz()).toBe(200);
  }, 60_000);

  it('cuts off clients that connect and never send a byte', async () => {
    // the headers deadline runs from the connection, so it applies before the idle timeout
    const bound = LIMITS.headersTimeoutMs! + LIMITS.checkIntervalMs! + SLACK_MS;
    const silent = Array.from({ length: 50 }, () => slowClient(port, '', '', bound * 3));
    for (const c of silent) {
      const { byServer, afterMs } = await c.closed;
      expect(byServer, 'a silent socket is cut off by the server').toBe(true);
      expect(afterMs).toBeLessThan(bound);
      expect(cutOff(c.received()), c.received().slice(0, 80)).toBe(true);
    }
    expect(await healthz()).toBe(200);
  }, 60_000);

  it('answers 431 to headers over the size limit, and serves a large but allowed cookie jar', async () => {
    const max = HTTP_LIMITS.maxHeaderBytes;
    const status = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: desk\r\nCookie: jar=${'x'.repeat(max + 1)}\r\nConnection: close\r\n\r\n`);
    expect(status).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    const many = Array.from({ length: 400 }, (_, i) => `X-H${i}: y`).join('\r\n');
    expect((await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: desk\r\n${many}${'y'.repeat(max)}\r\nConnection: close\r\n\r\n`)).split(' ')[1]).toBe('431');
    const allowed = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: desk\r\nCookie: jar=${'x'.repeat(Math.floor(max / 2))}\r\nConnection: close\r\n\r\n`);
    expect(allowed).toBe('HTTP/1.1 200 OK');
  });
});

describe('stopping the desk', () => {
  it('does not wait for sockets that never sent a byte (a browser preconnect), however long their idle timeout', async () => {
    // Node stops checking the headers deadline once close() begins, so only the idle timeout would
    // end these sockets; here it is far beyond the test's own timeout
    const desk = await startDesk({ store: new MemoryStore(), health: async () => ({ store: 'ok' }) }, { port: 0, limits: { idleTimeoutMs: 3_600_000 } });
    const port = Number(new URL(desk.url).port);
    const silent = Array.from({ length: 5 }, () => slowClient(port, '', '', 3_600_000));
    // a socket that did send a request and got its answer closes as Node closes idle keep-alive sockets
    const served = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: desk\r\nConnection: close\r\n\r\n');
    expect(served).toBe('HTTP/1.1 200 OK');
    await desk.close();
    const closes = await Promise.all(silent.map((c) => c.closed));
    expect(closes.every((c) => c.byServer)).toBe(true);
  }, 20_000);
});

describe('the shipped HTTP limits', () => {
  it('bound every phase of a connection, and let a full push batch through a slow county line', async () => {
    const desk = await startDesk({ store: new MemoryStore(), health: async () => ({ store: 'ok' }) }, { port: 0 });
    try {
      const s = desk.app.server;
      // Node and Fastify would leave these at 0 (never) and 60 s checked every 30 s
      expect(s.requestTimeout).toBeGreaterThan(0);
      expect(s.timeout).toBeGreaterThan(0);
      expect(s.headersTimeout).toBeGreaterThan(0);
      expect(s.headersTimeout).toBeLessThanOrEqual(s.requestTimeout);
      expect(s.headersTimeout).toBeLessThanOrEqual(15_000);
      // a reverse proxy keeps upstream connections 60 s: the desk must not close them first
      expect(s.keepAliveTimeout).toBeGreaterThan(60_000);
      // 2 MiB at 300 kbit/s takes ~56 s
      expect(s.requestTimeout).toBeGreaterThanOrEqual(((PUSH_BODY_LIMIT * 8) / 300_000) * 1000);
      // the live stream pings every 15 s; an idle cut must leave it alone
      expect(s.timeout).toBeGreaterThan(15_000);
    } finally {
      await desk.close();
    }
  });
});
