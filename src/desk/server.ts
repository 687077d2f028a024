import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
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

/** Builds the desk without listening, for app.inject() in tests and for embedding. */
export function buildDesk(deps: DeskDeps, opts: DeskOptions = {}): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 64 * 1024 });
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
  opts: DeskOptions = {},
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = buildDesk(deps, opts);
  const url = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  return { url, app, close: () => app.close() };
}
