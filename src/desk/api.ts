import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AlertQuery, ItemQuery, type Stats } from '../core/query.ts';
import { ALERT_STATUSES, AlertAction, ItemKind, LEVELS } from '../core/types.ts';
import type { Alert, ScoredItem } from '../core/types.ts';
import { splitTokens } from '../text/tokens.ts';
import { ConfigError, ConflictError, NotFoundError, TransitionError } from '../core/errors.ts';
import type { DeskDeps } from './deps.ts';
import type { LiveFeed } from './live.ts';
import { fieldIssues, shapeKeys } from './validation.ts';
import { regionChildren, regionName, regionPath } from './region-names.ts';
import { allAlerts } from './collect.ts';
import { inScope, scopePrefix, scopeRegions } from './scope.ts';
import type { Principal } from '../auth/roles.ts';

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

export function parseQuery<S extends z.ZodObject>(schema: S, req: FastifyRequest, reply: FastifyReply): z.infer<S> | null {
  const r = schema.safeParse({ ...(req.query as object) });
  if (r.success) return r.data;
  void reply.code(400).send({
    error: 'invalid query',
    issues: fieldIssues(r.error, { flat: true, allowed: shapeKeys(schema) }),
  });
  return null;
}

/** An item as the API gives it: its tokens as a list, as the API always has (the pipeline carries them joined). */
export function itemView(it: ScoredItem): Omit<ScoredItem, 'tokens'> & { tokens: string[] } {
  return { ...it, tokens: splitTokens(it.tokens) };
}

/** Adds the readable region name next to the code, when the code is a known GB/T 2260 one. */
export function withRegionName(a: Alert): Alert & { regionName?: string } {
  const name = a.region ? regionName(a.region) : undefined;
  return name ? { ...a, regionName: name } : a;
}

/**
 * The alert list's query: the store's AlertQuery plus `kind` (news / complaint / notice), which
 * keeps alerts with at least one item of those kinds. The store seam has no kind filter for
 * alerts, so it is applied here over every alert the other filters match (at most
 * KIND_FILTER_CAP, newest first as the store orders them).
 */
export const AlertListQuery = AlertQuery.extend({
  kind: z.preprocess((v) => {
    if (v == null || v === '') return undefined;
    const arr = Array.isArray(v) ? v : [v];
    return arr.flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
  }, z.array(ItemKind).optional()),
}).strict();
export const KIND_FILTER_CAP = 10_000;

const RegionsQuery = z.object({ parent: z.string().regex(/^\d{6}$/, 'expected a GB/T 2260 code such as 360100').optional() }).strict();

/** The alert if it exists and the principal may see it; another region's alert is "not found", not "forbidden". */
async function visibleAlert(deps: DeskDeps, p: Principal | undefined, id: string): Promise<Alert | null> {
  const a = await deps.store.getAlert(id);
  return a && inScope(p, a.regions) ? a : null;
}

/** Stats as the principal may see them: the store's own for the province, counted within the region for a county. */
async function scopedStats(deps: DeskDeps, p: Principal): Promise<Stats> {
  const { store } = deps;
  if (scopePrefix(p) === null) return store.stats();
  const region = [p.region!];
  const alertsTotal = (extra: Partial<AlertQuery>) => store.searchAlerts({ limit: 1, offset: 0, region, ...extra } as AlertQuery).then((r) => r.total);
  const byLevel: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const l of LEVELS) {
    const n = await alertsTotal({ level: [l] });
    if (n) byLevel[l] = n;
  }
  for (const s of ALERT_STATUSES) {
    const n = await alertsTotal({ status: [s] });
    if (n) byStatus[s] = n;
  }
  const agg = async (groupBy: 'source' | 'kind') =>
    Object.fromEntries((await store.aggregate({ filter: { region } as ItemQuery, groupBy, size: 500 })).map((b) => [b.key, b.count]));
  const bySource = await agg('source');
  return {
    items: { total: Object.values(bySource).reduce((a, b) => a + b, 0), bySource, byKind: await agg('kind') },
    alerts: { total: await alertsTotal({}), byLevel, byStatus },
  };
}

export function registerApi(app: FastifyInstance, deps: DeskDeps, live: LiveFeed): void {
  const { store } = deps;

  app.get('/api/v1/alerts', async (req, reply) => {
    const parsed = parseQuery(AlertListQuery, req, reply);
    if (!parsed) return reply;
    const { kind, ...q } = parsed;
    const region = scopeRegions(req.principal, q.region);
    if (region === null) return { total: 0, items: [] };
    if (kind?.length) {
      const { limit, offset, ...filter } = q;
      const all = await allAlerts(store, { ...filter, region }, KIND_FILTER_CAP);
      const hits = all.filter((a) => a.kinds.some((k) => kind.includes(k)));
      return { total: hits.length, items: hits.slice(offset, offset + limit).map(withRegionName) };
    }
    const page = await store.searchAlerts({ ...q, region });
    return { total: page.total, items: page.items.map(withRegionName) };
  });

  // the region tree of the filter bar, one level at a time: provinces, then a province's cities, then a city's counties
  app.get('/api/v1/regions', async (req, reply) => {
    const q = parseQuery(RegionsQuery, req, reply);
    if (!q) return reply;
    return { parent: q.parent ?? null, path: q.parent ? regionPath(q.parent) : [], items: regionChildren(q.parent ?? '') };
  });

  app.get<{ Params: { id: string } }>('/api/v1/alerts/:id', async (req, reply) => {
    const { id } = req.params;
    const alert = await visibleAlert(deps, req.principal, id);
    if (!alert) return reply.code(404).send({ error: 'alert not found', id });
    const items = (await store.getItems(alert.itemIds)).filter((it) => inScope(req.principal, it.regions) || inScope(req.principal, alert.regions)).map(itemView);
    // The alert is what the officer needs; an unreachable queue must not hide it.
    let deliveries: unknown[] = [];
    let deliveriesError: string | undefined;
    try {
      deliveries = (await deps.queue?.deliveriesFor(id)) ?? [];
    } catch (err) {
      req.log.warn({ err, id }, 'deliveriesFor failed');
      deliveriesError = err instanceof Error ? err.message : String(err);
    }
    return { ...withRegionName(alert), regionPath: alert.region ? regionPath(alert.region) : [], items, deliveries, ...(deliveriesError ? { deliveriesError } : {}) };
  });

  app.post<{ Params: { id: string } }>('/api/v1/alerts/:id/actions', async (req, reply) => {
    const { id } = req.params;
    const body = ActionBody.safeParse(req.body ?? {});
    if (!body.success) {
      return reply.code(400).send({ error: 'invalid action', issues: fieldIssues(body.error) });
    }
    if (!(await visibleAlert(deps, req.principal, id))) return reply.code(404).send({ error: 'alert not found', id });
    try {
      // the actor is who logged in (or the token's name), never something the client says
      const next = await store.transition(id, { ...body.data, actor: req.principal!.name });
      live.publish(next);
      return next;
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
    const region = scopeRegions(req.principal, q.region);
    if (region === null) return { total: 0, items: [] };
    const page = await store.searchItems({ ...q, region });
    return { ...page, items: page.items.map(itemView) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/items/:id', async (req, reply) => {
    const item = await store.getItem(req.params.id);
    if (!item || !inScope(req.principal, item.regions)) return reply.code(404).send({ error: 'item not found', id: req.params.id });
    return itemView(item);
  });

  app.get('/api/v1/stats', async (req) => scopedStats(deps, req.principal!));

  app.get('/api/v1/sources', async () => ({ items: (await deps.sources?.()) ?? [] }));

  app.post('/api/v1/rules/reload', async (req, reply) => {
    if (!deps.reloadRules) return reply.code(501).send({ error: 'rule reload is not available in this process' });
    try {
      const engine = await deps.reloadRules();
      req.log.info({ by: req.principal!.name, rules: engine.rules.length }, 'rules reloaded from the desk');
      return { ok: true, rules: engine.rules.length };
    } catch (err) {
      // the runner keeps the last good rules; the admin needs to know exactly what is wrong
      if (err instanceof ConfigError) return reply.code(422).send({ error: err.message, file: err.file, field: err.field, line: err.line });
      throw err;
    }
  });
}
