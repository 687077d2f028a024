import type { Socket } from 'node:net';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { DeskDeps, DeskOptions } from './deps.ts';
import { registerApi } from './api.ts';
import { registerUi } from './static.ts';
import { registerPush } from './push.ts';
import { registerAccess } from './access.ts';
import { registerAuthRoutes } from './auth-routes.ts';
import { registerStream } from './stream.ts';
import { registerViews } from './views.ts';
import { registerRules } from './rules.ts';
import { registerChannels } from './channels.ts';
import { LiveFeed } from './live.ts';
import { SECURITY_HEADERS } from './headers.ts';

export type { DeskDeps, DeskOptions } from './deps.ts';
export { CONTENT_SECURITY_POLICY } from './headers.ts';
export { ensureDemoAccount } from '../auth/accounts.ts';

const ROUTES = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** Every route a desk registered (HEAD twins included), for the access-table test. */
export function registeredRoutes(app: FastifyInstance): { method: string; url: string }[] {
  return [...(ROUTES.get(app) ?? [])];
}

/**
 * How long and how much the desk's HTTP server lets one connection take. Node and Fastify leave
 * most of these off (no request timeout, no socket timeout, a headers deadline checked only every
 * 30 s), so one client trickling a header line or a body byte at a time could hold a socket for
 * ever, and a few hundred such clients hold every file descriptor the desk has.
 */
export interface HttpLimits {
  /** Every header of a request must have arrived within this (slowloris). Real clients send them in one packet. */
  headersTimeoutMs: number;
  /**
   * The whole request, headers and body, within this. The largest body is a 2 MiB push batch
   * (PUSH_BODY_LIMIT): 60 s still lets it through a county line of ~300 kbit/s. It ends when the
   * request has been read, so long answers (the live stream, an export) are not cut by it.
   */
  requestTimeoutMs: number;
  /**
   * A socket on which neither side sent anything for this long is closed: a client that stops
   * sending mid-request, or stops reading a reply. The live stream pings every 15 s, well inside.
   */
  idleTimeoutMs: number;
  /**
   * An idle keep-alive connection is kept this long between requests. Longer than the 60 s a
   * reverse proxy (nginx, a load balancer) keeps its upstream connections, so the proxy always
   * closes first and never sends a request on a socket the desk is closing.
   */
  keepAliveTimeoutMs: number;
  /** Request line plus headers at most this large, else 431. Node's default, set so it cannot drift. */
  maxHeaderBytes: number;
  /** How often Node looks for requests past the two deadlines above; a slow client may overrun them by this much. */
  checkIntervalMs: number;
}

export const HTTP_LIMITS: Readonly<HttpLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  maxHeaderBytes: 16 * 1024,
  checkIntervalMs: 1_000,
};

/** A body this large is refused with 413 unless its route allows more (the push API). */
export const BODY_LIMIT = 64 * 1024;

export interface DeskServerOptions extends DeskOptions {
  /** Overrides of HTTP_LIMITS (tests use short ones). */
  limits?: Partial<HttpLimits>;
  /**
   * A pino logger for the desk's request and error logs. Without it (and without `logger: true`)
   * the desk logs nothing, not even its 500s.
   */
  log?: FastifyBaseLogger;
}

/** Builds the desk without listening, for app.inject() in tests and for embedding. */
export function buildDesk(deps: DeskDeps, opts: DeskServerOptions = {}): FastifyInstance {
  const limits = { ...HTTP_LIMITS, ...opts.limits };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new Error('desk limits: headersTimeoutMs must not exceed requestTimeoutMs');
  const app = Fastify({
    ...(opts.log ? { loggerInstance: opts.log } : { logger: opts.logger ?? false }),
    bodyLimit: BODY_LIMIT,
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Fastify has no option for the headers deadline, the header size or the check interval;
    // requestTimeout is repeated here because Node checks headersTimeout against it on creation.
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
  });
  // A socket that never sent a byte (a browser's speculative preconnect, a client that gave up
  // before writing) is not idle to Node: close() would wait for its idle timeout. Nothing is
  // lost by dropping such sockets when the desk stops.
  const sockets = new Set<Socket>();
  app.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  app.addHook('preClose', async () => {
    for (const s of sockets) if (s.bytesRead === 0) s.destroy();
  });

  const routes: { method: string; url: string }[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method: m, url: r.url });
  });
  const live = new LiveFeed(deps.store, {
    intervalMs: opts.liveIntervalMs,
    onError: (err) => app.log.warn({ err }, 'live feed poll failed'),
  });
  app.addHook('onClose', async () => live.stop());

  // onSend runs for every reply, including 404s and errors, so no response escapes the headers.
  app.addHook('onSend', async (req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    if (req.url.startsWith('/api/') || req.url.startsWith('/healthz')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setNotFoundHandler(async (req, reply) => {
    return reply.code(404).send({ error: 'not found', method: req.method, path: req.url.split('?')[0] });
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'desk request failed');
      // Engine errors can carry file paths or connection strings: keep them in the log only.
      return reply.code(500).send({ error: 'internal error' });
    }
    return reply.code(status).send({ error: err.message, ...(err.code ? { code: err.code } : {}) });
  });

  registerAccess(app, deps.accounts);

  app.get('/healthz', async (req, reply) => {
    let engines: Record<string, string>;
    try {
      engines = await deps.health();
    } catch (err) {
      req.log.warn({ err }, 'health check failed');
      engines = { health: err instanceof Error ? err.message : String(err) };
    }
    const ok = Object.values(engines).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', engines });
  });

  // Prometheus text format; scrapers authenticate with an API token (sentinel token create).
  app.get('/metrics', async (_req, reply) => {
    if (!deps.metrics) return reply.code(404).send({ error: 'metrics are not enabled in this process' });
    const m = await deps.metrics();
    return reply.type(m.contentType).send(m.body);
  });

  registerAuthRoutes(app, deps, opts);
  registerApi(app, deps, live);
  registerPush(app, deps);
  registerStream(app, deps, live);
  registerViews(app, deps);
  registerRules(app, deps);
  registerChannels(app, deps);
  registerUi(app);
  return app;
}

/** Builds the desk and listens; `url` is where the page is (e.g. http://127.0.0.1:8080). */
export async function startDesk(
  deps: DeskDeps,
  opts: DeskServerOptions = {},
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = buildDesk(deps, opts);
  const url = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  return { url, app, close: () => app.close() };
}
