import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DeskDeps } from './deps.ts';
import { computeTrends, TREND_WINDOWS, type TrendWindow } from '../alerts/trends.ts';
import { regionName } from './region-names.ts';
import { scopeRegions } from './scope.ts';
import { buildLedger, ledgerCsv } from './ledger.ts';
import { ledgerXlsx } from './ledger-xlsx.ts';
import { buildHandover } from './handover.ts';
import { DAY, buildBriefing, renderBriefingHtml, renderBriefingMarkdown, yesterday } from './briefing.ts';
import { fieldIssues, shapeKeys } from './validation.ts';
import { withRegionName } from './api.ts';

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date such as 2026-11-29 or 2026-11-29T08:00:00+08:00')
  .transform((s) => new Date(DAY.test(s) ? `${s}T00:00:00+08:00` : s).toISOString());

const TrendsQuery = z.object({ window: z.enum(Object.keys(TREND_WINDOWS) as [TrendWindow, ...TrendWindow[]]).default('24h') }).strict();
const BriefingQuery = z
  .object({
    day: z.string().regex(DAY, 'expected a day such as 2026-11-29').optional(),
    to: z.string().regex(DAY, 'expected a day such as 2026-11-30').optional(),
    format: z.enum(['html', 'md', 'json']).default('html'),
  })
  .strict();
const LedgerQuery = z
  .object({
    from: isoDate.optional(),
    to: isoDate.optional(),
    groupBy: z.enum(['region', 'category']).default('region'),
    sheet: z.enum(['summary', 'open']).default('summary'),
  })
  .strict();
const HandoverQuery = z
  .object({
    hours: z.coerce.number().int().min(1).max(72).default(8),
    to: isoDate.optional(),
  })
  .strict();

function parse<S extends z.ZodObject>(schema: S, req: FastifyRequest, reply: FastifyReply): z.infer<S> | null {
  const r = schema.safeParse({ ...(req.query as object) });
  if (r.success) return r.data;
  void reply.code(400).send({ error: 'invalid query', issues: fieldIssues(r.error, { flat: true, allowed: shapeKeys(schema) }) });
  return null;
}

/** The region a county principal's views are narrowed to (undefined for the province). */
function ownRegion(req: FastifyRequest): string | undefined {
  const r = scopeRegions(req.principal, undefined);
  return r?.[0];
}

/** Trends, briefing, ledger and handover: the risk-consultation and shift views. */
export function registerViews(app: FastifyInstance, deps: DeskDeps): void {
  const now = () => deps.now?.() ?? new Date();

  app.get('/api/v1/trends', async (req, reply) => {
    const q = parse(TrendsQuery, req, reply);
    if (!q) return reply;
    const region = ownRegion(req);
    const view = await computeTrends(deps.store, { window: q.window, now: now(), region, rules: deps.trendRules?.() });
    return {
      ...view,
      byRegionCategory: {
        ...view.byRegionCategory,
        regionNames: view.byRegionCategory.regions.map((c) => regionName(c) ?? c),
      },
    };
  });

  app.get('/api/v1/briefing', async (req, reply) => {
    const q = parse(BriefingQuery, req, reply);
    if (!q) return reply;
    const day = q.day ?? yesterday(now());
    if (q.to && q.to < day) return reply.code(400).send({ error: 'invalid query', issues: [{ path: 'to', message: 'the last day comes before the first' }] });
    if (q.to && (Date.parse(q.to) - Date.parse(day)) / 86_400_000 > 92) {
      return reply.code(400).send({ error: 'invalid query', issues: [{ path: 'to', message: 'a briefing covers at most 93 days' }] });
    }
    const b = await buildBriefing(deps.store, { day, toDay: q.to, region: ownRegion(req), now: now(), rules: deps.trendRules?.() });
    const name = `briefing-${day}${q.to && q.to !== day ? `_${q.to}` : ''}`;
    if (q.format === 'json') return b;
    if (q.format === 'md') {
      return reply
        .type('text/markdown; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.md"`)
        .send(renderBriefingMarkdown(b));
    }
    const mdHref = `/api/v1/briefing?day=${day}${q.to ? `&to=${q.to}` : ''}&format=md`;
    return reply.type('text/html; charset=utf-8').send(renderBriefingHtml(b, { mdHref }));
  });

  const ledger = async (req: FastifyRequest, reply: FastifyReply) => {
    const q = parse(LedgerQuery, req, reply);
    if (!q) return null;
    const region = ownRegion(req);
    return { q, l: await buildLedger(deps.store, { from: q.from, to: q.to, groupBy: q.groupBy, region: region ? [region] : undefined, now: now() }) };
  };

  app.get('/api/v1/ledger', async (req, reply) => {
    const r = await ledger(req, reply);
    return r ? r.l : reply;
  });

  app.get('/api/v1/ledger.csv', async (req, reply) => {
    const r = await ledger(req, reply);
    if (!r) return reply;
    const file = `ledger-${r.q.sheet}-${r.q.groupBy}.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${file}"`)
      .send(ledgerCsv(r.l, r.q.sheet));
  });

  // one workbook with both sheets (处置进展, 风险清单); `sheet` only matters to the CSV
  app.get('/api/v1/ledger.xlsx', async (req, reply) => {
    const r = await ledger(req, reply);
    if (!r) return reply;
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename="ledger-${r.q.groupBy}.xlsx"`)
      .send(await ledgerXlsx(r.l));
  });

  app.get('/api/v1/handover', async (req, reply) => {
    const q = parse(HandoverQuery, req, reply);
    if (!q) return reply;
    const to = q.to ? new Date(q.to) : now();
    const region = ownRegion(req);
    const h = await buildHandover(deps.store, { from: new Date(to.getTime() - q.hours * 3600_000), to, region: region ? [region] : undefined });
    return {
      ...h,
      arrived: h.arrived.map(withRegionName),
      open: h.open.map(withRegionName),
      escalated: h.escalated.map((e) => ({ ...e, alert: withRegionName(e.alert) })),
    };
  });
}
