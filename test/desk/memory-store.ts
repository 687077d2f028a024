import type { Alert, Page, ScoredItem } from '../../src/core/types.ts';
import { levelRank } from '../../src/core/types.ts';
import type { AlertQuery, ItemQuery, Stats } from '../../src/core/query.ts';
import { NotFoundError } from '../../src/core/errors.ts';
import type { AggregateBucket, AggregateQuery, Store, TransitionRequest } from '../../src/store/store.ts';
import { businessOf, termsOf } from '../../src/store/shared.ts';
import { applyTransition } from '../../src/store/workflow.ts';

/**
 * A Map-based Store for the desk tests. It really applies every filter (so a route that forgot
 * to pass one on would fail), and runs the shared workflow so conflicts and refused transitions
 * are the store's own. Full text is a plain substring match on every whitespace-separated term,
 * standing in for FTS over jieba tokens.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly items = new Map<string, ScoredItem>();
  readonly alerts = new Map<string, Alert>();
  /** Every query the desk sent, to check what the edge parsed. */
  readonly alertQueries: AlertQuery[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  async upsertItems(items: ScoredItem[]): Promise<void> {
    for (const it of items) this.items.set(it.id, structuredClone(it));
  }

  async upsertAlerts(alerts: Alert[]): Promise<void> {
    for (const a of alerts) this.alerts.set(a.id, structuredClone(a));
  }

  async getItem(id: string): Promise<ScoredItem | null> {
    return structuredClone(this.items.get(id) ?? null);
  }

  async getItems(ids: string[]): Promise<ScoredItem[]> {
    return ids.flatMap((id) => (this.items.has(id) ? [structuredClone(this.items.get(id)!)] : []));
  }

  async getAlert(id: string): Promise<Alert | null> {
    return structuredClone(this.alerts.get(id) ?? null);
  }

  async searchItems(q: ItemQuery): Promise<Page<ScoredItem>> {
    const hits = [...this.items.values()].filter(
      (it) =>
        common(q, { level: it.level, category: it.category, regions: it.regions, time: it.publishedAt, text: it.text }) &&
        (!q.source?.length || q.source.includes(it.sourceId)) &&
        (!q.kind?.length || q.kind.includes(it.kind)) &&
        (q.risk === undefined || it.risk === q.risk),
    );
    hits.sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));
    return page(hits, q);
  }

  async searchAlerts(q: AlertQuery): Promise<Page<Alert>> {
    this.alertQueries.push(q);
    const hits = [...this.alerts.values()].filter(
      (a) =>
        common(q, {
          level: a.level,
          category: a.category,
          regions: a.regions,
          time: a.firstSeenAt,
          text: [a.title, a.summary, ...a.terms].join('\n'),
        }) && (!q.status?.length || q.status.includes(a.status)),
    );
    hits.sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
    return page(hits, q);
  }

  async transition(id: string, req: TransitionRequest): Promise<Alert> {
    const a = this.alerts.get(id);
    if (!a) throw new NotFoundError(`alert ${id} not found`);
    const next = applyTransition(a, req, this.now());
    this.alerts.set(id, next);
    return structuredClone(next);
  }

  async stats(): Promise<Stats> {
    const count = <T>(xs: T[], key: (x: T) => string | null) => {
      const out: Record<string, number> = {};
      for (const x of xs) {
        const k = key(x);
        if (k != null) out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    };
    const items = [...this.items.values()];
    const alerts = [...this.alerts.values()];
    return {
      items: { total: items.length, bySource: count(items, (i) => i.sourceId), byKind: count(items, (i) => i.kind) },
      alerts: { total: alerts.length, byLevel: count(alerts, (a) => a.level), byStatus: count(alerts, (a) => a.status) },
    };
  }

  /** The store contract's aggregate, counted over the Map with the same filters as searchItems. */
  async aggregate(q: AggregateQuery): Promise<AggregateBucket[]> {
    const items = (await this.searchItems({ ...q.filter, limit: 1_000_000, offset: 0 } as ItemQuery)).items;
    const keysOf = (it: ScoredItem): string[] => {
      switch (q.groupBy) {
        case 'category':
          return it.category ? [it.category] : [];
        case 'region':
          return it.regions[0] ? [it.regions[0]] : [];
        case 'level':
          return it.level ? [it.level] : [];
        case 'source':
          return [it.sourceId];
        case 'kind':
          return [it.kind];
        case 'term':
          return termsOf(it);
        case 'business':
          return businessOf(it) ? [businessOf(it)!] : [];
      }
    };
    const bucketOf = (iso: string) =>
      q.interval === 'hour' ? `${new Date(iso).toISOString().slice(0, 13)}:00:00.000Z` : `${new Date(iso).toISOString().slice(0, 10)}T00:00:00.000Z`;
    const totals = new Map<string, number>();
    const timed = new Map<string, number>();
    for (const it of items) {
      for (const k of keysOf(it)) {
        totals.set(k, (totals.get(k) ?? 0) + 1);
        if (q.interval) {
          const key = `${k}\u0000${bucketOf(it.publishedAt)}`;
          timed.set(key, (timed.get(key) ?? 0) + 1);
        }
      }
    }
    const top = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, q.size ?? 50);
    if (!q.interval) return top.map(([key, count]) => ({ key, count }));
    const rank = new Map(top.map(([k], i) => [k, i]));
    return [...timed]
      .map(([kt, count]) => {
        const [key, time] = kt.split('\u0000') as [string, string];
        return { key, time, count };
      })
      .filter((b) => rank.has(b.key))
      .sort((a, b) => rank.get(a.key)! - rank.get(b.key)! || a.time.localeCompare(b.time));
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

interface Fields {
  level: Alert['level'] | null;
  category: string | null;
  regions: string[];
  time: string;
  text: string;
}

/** A province (36) or city (3601) code matches every code below it, as GB/T 2260 nests. */
function regionMatches(filter: string, code: string): boolean {
  const f = filter.padEnd(6, '0').slice(0, 6);
  const prefix = f.endsWith('0000') ? f.slice(0, 2) : f.endsWith('00') ? f.slice(0, 4) : f;
  return code.startsWith(prefix);
}

function common(q: AlertQuery | ItemQuery, f: Fields): boolean {
  if (q.level?.length && !(f.level && q.level.some((l) => levelRank(l) === levelRank(f.level!)))) return false;
  if (q.category?.length && !(f.category && q.category.includes(f.category))) return false;
  if (q.region?.length && !q.region.some((r) => f.regions.some((c) => regionMatches(r, c)))) return false;
  if (q.from && Date.parse(f.time) < Date.parse(q.from)) return false;
  if (q.to && Date.parse(f.time) > Date.parse(q.to)) return false;
  if (q.q && !q.q.split(/\s+/).filter(Boolean).every((t) => f.text.includes(t))) return false;
  return true;
}

function page<T>(all: T[], q: { limit: number; offset: number }): Page<T> {
  return { total: all.length, items: structuredClone(all.slice(q.offset, q.offset + q.limit)) };
}
