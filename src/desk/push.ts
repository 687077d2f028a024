import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeskDeps } from './deps.ts';
import { MAX_PUSH_RECORDS, PushedRecord, pushedToItem } from '../sources/push.ts';
import { SlidingWindowLimiter } from '../notify/ratelimit.ts';
import { formatPath } from '../config/yaml.ts';
import type { RawItem } from '../core/types.ts';

/** A push request may be this large; a bigger one is refused with 413 before it is read. */
export const PUSH_BODY_LIMIT = 2 * 1024 * 1024;

const Batch = z.array(PushedRecord).min(1, 'an empty batch').max(MAX_PUSH_RECORDS, `at most ${MAX_PUSH_RECORDS} records per request`);


/**
 * POST /api/v1/complaints — the push API for systems that send complaint records (a 12345
 * platform, a county hotline). A record is accepted only once it is on the bus (durably
 * written), so a 200 means it will reach the store; anything else is a 4xx naming the field, or
 * a 503 with Retry-After that the sender must retry. The record number (登记编号) is the
 * idempotency key per sending system: a retry never duplicates.
 */
export function registerPush(app: FastifyInstance, deps: DeskDeps): void {
  const limiter = new SlidingWindowLimiter({ max: deps.pushRate?.max ?? 120, windowMs: deps.pushRate?.windowMs ?? 60_000 });

  app.post('/api/v1/complaints', { bodyLimit: PUSH_BODY_LIMIT }, async (req, reply) => {
    const who = req.principal!;
    const now = new Date();
    if (!limiter.take(who.name, now)) {
      const wait = Math.max(1, Math.ceil((limiter.nextFree(who.name, now).getTime() - now.getTime()) / 1000));
      return reply.code(429).header('retry-after', String(wait)).send({ error: 'too many requests', retryAfterSeconds: wait });
    }
    if (!deps.ingestComplaints) {
      return reply.code(503).header('retry-after', '60').send({ error: 'this process runs no ingest stage; records are not accepted here' });
    }
    // The shape decides the schema, so errors point at the record and field (records[3].登记时间).
    const body = req.body as unknown;
    const isWrapped = typeof body === 'object' && body !== null && !Array.isArray(body) && 'records' in body;
    const schema = Array.isArray(body)
      ? Batch
      : isWrapped
        ? z.object({ records: Batch }).strict().transform((o) => o.records)
        : PushedRecord.transform((r) => [r]);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      return reply.code(400).send({
        error: 'invalid records',
        issues: parsed.error.issues.slice(0, 50).map((i) => ({
          path: formatPath(i.path) || '(body)',
          message: i.code === 'unrecognized_keys' ? `unknown field ${i.keys.map((k) => `'${k}'`).join(', ')}` : i.message,
        })),
      });
    }
    const records = parsed.data;
    const sourceId = `push-${who.name.replace(/^token:/, '')}`;
    const fetchedAt = now.toISOString();
    const items: RawItem[] = [];
    const issues: { path: string; message: string }[] = [];
    const prefix = Array.isArray(body) ? '' : isWrapped ? 'records' : null;
    records.forEach((r, i) => {
      const out = pushedToItem(r, sourceId, i, fetchedAt);
      if (typeof out === 'string') issues.push({ path: prefix === null ? '登记时间' : `${prefix}[${i}].登记时间`, message: out });
      else items.push(out);
    });
    if (issues.length) return reply.code(400).send({ error: 'invalid records', issues });
    const seen = new Set<string>();
    const dupInRequest = items.filter((it) => (seen.has(it.id) ? true : (seen.add(it.id), false)));
    if (dupInRequest.length) {
      return reply.code(400).send({ error: 'invalid records', issues: [{ path: '登记编号', message: `a record number appears twice in one request: ${dupInRequest[0]!.fields['登记编号'] ?? dupInRequest[0]!.id}` }] });
    }
    let result: { fresh: number; duplicates: number; freshIds: string[] };
    try {
      result = await deps.ingestComplaints(items);
    } catch (err) {
      req.log.error({ err }, 'pushed records could not be stored');
      return reply.code(503).header('retry-after', '30').send({ error: 'records were not stored; retry later', retryAfterSeconds: 30 });
    }
    const fresh = new Set(result.freshIds);
    return reply.code(200).send({
      accepted: items.length,
      new: result.fresh,
      duplicates: result.duplicates,
      records: items.map((it) => ({ 登记编号: it.fields['登记编号'], id: it.id, duplicate: !fresh.has(it.id) })),
    });
  });
}
