import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeskDeps } from './deps.ts';
import { fieldIssues } from './validation.ts';
import { regionWithin } from '../alerts/silences.ts';
import { SilenceError } from '../alerts/silences-store.ts';
import type { Principal } from '../auth/roles.ts';

/*
 * Push channels and silences. Channels are the administrators' business: the list shows every
 * configured channel with its delivery counts (never a URL or a secret) and a test send. Silences
 * are the duty officers': create, list and end them; a county office works only inside its own
 * region. Every change is audited by the silence store.
 */

/** A county principal may touch a silence only inside its own region; the province anywhere. */
function mayTouch(p: Principal | undefined, region: string): boolean {
  return p?.role !== 'county' || (!!p.region && regionWithin(region, p.region));
}

const IdParam = z.strictObject({ id: z.string().min(1).max(100) });
const NameParam = z.strictObject({ name: z.string().min(1).max(200) });

export function registerChannels(app: FastifyInstance, deps: DeskDeps): void {
  app.get('/api/v1/channels', async (_req, reply) => {
    if (!deps.channels) return reply.code(404).send({ error: 'push channels are not configured in this process' });
    const counts = (await deps.queue?.channelCounts?.().catch(() => null)) ?? {};
    const channels = deps.channels.list().map((c) => ({ ...c, counts: counts[c.name] ?? { delivered: 0, pending: 0, dead: 0 } }));
    return { channels };
  });

  app.post('/api/v1/channels/:name/test', async (req, reply) => {
    const p = NameParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'invalid channel name', issues: fieldIssues(p.error) });
    if (!deps.channels) return reply.code(404).send({ error: 'push channels are not configured in this process' });
    const name = p.data.name;
    if (!deps.channels.list().some((c) => c.name === name)) return reply.code(404).send({ error: 'channel not found', channel: name });
    const outcome = await deps.channels.sendTest(name, req.principal!.name);
    req.log.info({ channel: name, ok: outcome.ok, by: req.principal!.name }, 'channel test message');
    return outcome;
  });

  app.get('/api/v1/silences', async (req, reply) => {
    if (!deps.silences) return reply.code(404).send({ error: 'silences are not available in this process' });
    const p = req.principal;
    return { silences: deps.silences.list(p?.role === 'county' ? { region: p.region } : {}) };
  });

  app.post('/api/v1/silences', async (req, reply) => {
    if (!deps.silences) return reply.code(404).send({ error: 'silences are not available in this process' });
    const body = (req.body ?? {}) as { region?: unknown };
    if (typeof body.region === 'string' && /^\d{6}$/.test(body.region) && !mayTouch(req.principal, body.region)) {
      return reply.code(403).send({ error: `a county office may silence only within its region ${req.principal!.region}`, issues: [{ path: 'region', message: 'outside your region' }] });
    }
    try {
      const s = deps.silences.create(req.body, req.principal!.name);
      return reply.code(201).send(s);
    } catch (err) {
      if (err instanceof z.ZodError) return reply.code(400).send({ error: 'invalid silence', issues: fieldIssues(err) });
      if (err instanceof SilenceError) return reply.code(400).send({ error: 'invalid silence', issues: [{ path: err.field, message: err.message.slice(err.field.length + 2) }] });
      throw err;
    }
  });

  app.delete('/api/v1/silences/:id', async (req, reply) => {
    const p = IdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'invalid id', issues: fieldIssues(p.error) });
    if (!deps.silences) return reply.code(404).send({ error: 'silences are not available in this process' });
    const existing = deps.silences.get(p.data.id);
    // another region's silence is "not found" for a county, as alerts are
    if (!existing || !mayTouch(req.principal, existing.region)) return reply.code(404).send({ error: 'silence not found', id: p.data.id });
    return deps.silences.remove(p.data.id, req.principal!.name);
  });
}
