import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AlertQuery, ItemQuery } from '../core/query.ts';
import { AlertAction } from '../core/types.ts';
import type { Alert } from '../core/types.ts';
import { ConflictError, NotFoundError, TransitionError } from '../core/errors.ts';
import type { DeskDeps } from './deps.ts';
import { fieldIssues, shapeKeys } from './validation.ts';
import { regionName } from './region-names.ts';

/** Body of POST /api/v1/alerts/:id/actions. The workflow rules themselves live in the store. */
export const ActionBody = z
  .object({
    action: AlertAction,
    note: z.string().trim().max(2000).optional(),
    assignee: z.string().trim().max(100).optional(),
    closeReason: z.string().trim().max(50).optional(),
    expectedVersion: z.number().int().min(0).optional(),
  })
  .strict();
export type ActionBody = z.infer<typeof ActionBody>;

const ACTOR_HEADER = 'x-sentinel-actor';
const DEFAULT_ACTOR = 'duty-officer';

/**
 * Who performed an action. UNAUTHENTICATED for now: the header is taken on trust, so anyone who
 * can reach the desk can write any name into the history. The auth issue replaces this with the
 * logged-in officer from the session; until then the desk must listen on 127.0.0.1 or behind a
 * proxy that sets the header itself.
 */
function actorOf(req: FastifyRequest): string {
  const raw = req.headers[ACTOR_HEADER];
  const v = decodeHeader(Array.isArray(raw) ? raw[0] : raw)?.trim();
  // Keep history readable: a header is not a place for essays or control characters.
  return v && v.length <= 64 && !/[\u0000-\u001f\u007f]/.test(v) ? v : DEFAULT_ACTOR;
}

/**
 * Officers' names are Chinese, but HTTP headers are bytes: a proxy may send them percent-encoded
 * (`%E6%9D%8E%E9%9D%99`) or as raw UTF-8, which Node reads as latin1. Both are turned back into
 * the name; anything that does not decode cleanly is kept as it came.
 */
function decodeHeader(v: string | undefined): string | undefined {
  if (!v) return v;
  if (/%[0-9a-f]{2}/i.test(v)) {
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  }
  if (/[\u0080-\u00ff]/.test(v) && !/[^\u0000-\u00ff]/.test(v)) {
    const utf8 = Buffer.from(v, 'latin1').toString('utf8');
    if (!utf8.includes('\ufffd')) return utf8;
  }
  return v;
}

function parseQuery<S extends z.ZodObject>(schema: S, req: FastifyRequest, reply: FastifyReply): z.infer<S> | null {
  const r = schema.safeParse({ ...(req.query as object) });
  if (r.success) return r.data;
  void reply.code(400).send({
    error: 'invalid query',
    issues: fieldIssues(r.error, { flat: true, allowed: shapeKeys(schema) }),
  });
  return null;
}

/** Adds the readable region name next to the code, when the code is a known GB/T 2260 one. */
function withRegionName(a: Alert): Alert & { regionName?: string } {
  const name = a.region ? regionName(a.region) : undefined;
  return name ? { ...a, regionName: name } : a;
}

export function registerApi(app: FastifyInstance, deps: DeskDeps): void {
  const { store } = deps;

  app.get('/api/v1/alerts', async (req, reply) => {
    const q = parseQuery(AlertQuery, req, reply);
    if (!q) return reply;
    const page = await store.searchAlerts(q);
    return { total: page.total, items: page.items.map(withRegionName) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/alerts/:id', async (req, reply) => {
    const { id } = req.params;
    const alert = await store.getAlert(id);
    if (!alert) return reply.code(404).send({ error: 'alert not found', id });
    const items = await store.getItems(alert.itemIds);
    // The alert is what the officer needs; an unreachable queue must not hide it.
    let deliveries: unknown[] = [];
    let deliveriesError: string | undefined;
    try {
      deliveries = (await deps.queue?.deliveriesFor(id)) ?? [];
    } catch (err) {
      req.log.warn({ err, id }, 'deliveriesFor failed');
      deliveriesError = err instanceof Error ? err.message : String(err);
    }
    return { ...withRegionName(alert), items, deliveries, ...(deliveriesError ? { deliveriesError } : {}) };
  });

  app.post<{ Params: { id: string } }>('/api/v1/alerts/:id/actions', async (req, reply) => {
    const { id } = req.params;
    const body = ActionBody.safeParse(req.body ?? {});
    if (!body.success) {
      return reply.code(400).send({ error: 'invalid action', issues: fieldIssues(body.error) });
    }
    try {
      return await store.transition(id, { ...body.data, actor: actorOf(req) });
    } catch (err) {
      if (err instanceof ConflictError) {
        // Hand back what is there now so the page can show it without a second round trip.
        return reply.code(409).send({ error: err.message, current: await store.getAlert(id) });
      }
      if (err instanceof TransitionError) return reply.code(422).send({ error: err.message });
      if (err instanceof NotFoundError) return reply.code(404).send({ error: 'alert not found', id });
      throw err;
    }
  });

  app.get('/api/v1/items', async (req, reply) => {
    const q = parseQuery(ItemQuery, req, reply);
    if (!q) return reply;
    return store.searchItems(q);
  });

  app.get<{ Params: { id: string } }>('/api/v1/items/:id', async (req, reply) => {
    const item = await store.getItem(req.params.id);
    if (!item) return reply.code(404).send({ error: 'item not found', id: req.params.id });
    return item;
  });

  app.get('/api/v1/stats', async () => store.stats());

  app.get('/api/v1/sources', async () => ({ items: (await deps.sources?.()) ?? [] }));
}
