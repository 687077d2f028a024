import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { DeskDeps } from './deps.ts';
import type { LiveFeed } from './live.ts';
import { SECURITY_HEADERS } from './headers.ts';
import { inScope } from './scope.ts';
import { withRegionName } from './api.ts';

const HEARTBEAT_MS = 15_000;

/**
 * GET /api/v1/stream — server-sent events: `event: alert` with `{type: 'new'|'changed', alert}`
 * for every alert the principal may see, `event: ready` once the feed has its baseline, and
 * `event: logout` when the session behind the stream ends (idle timeout, logout elsewhere).
 * The stream does not keep a session alive: only the officer's own requests do.
 */
export function registerStream(app: FastifyInstance, deps: DeskDeps, live: LiveFeed): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get('/api/v1/stream', async (req, reply) => {
    const principal = req.principal!;
    const sessionId = req.deskSession?.id;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    open.add(res);
    const send = (event: string, data: unknown) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    res.write('retry: 3000\n\n');

    let unsubscribe: (() => void) | null = null;
    const stillLoggedIn = () => principal.via === 'token' || !!deps.accounts?.session(sessionId, { touch: false });
    const close = () => {
      clearInterval(beat);
      unsubscribe?.();
      unsubscribe = null;
      open.delete(res);
      if (!res.writableEnded) res.end();
    };
    const beat = setInterval(() => {
      if (!stillLoggedIn()) {
        send('logout', { reason: 'session ended' });
        return close();
      }
      res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    beat.unref();
    req.raw.on('close', close);

    unsubscribe = await live.subscribe((e) => {
      if (!inScope(principal, e.alert.regions)) return;
      if (principal.via === 'session' && !stillLoggedIn()) {
        send('logout', { reason: 'session ended' });
        return close();
      }
      send('alert', { type: e.type, alert: withRegionName(e.alert) });
    });
    if (res.writableEnded) {
      unsubscribe();
      return;
    }
    send('ready', { at: new Date().toISOString() });
  });
}
