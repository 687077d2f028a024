import { Client } from '@elastic/elasticsearch';
import type { errors } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import type { Alert, Page, ScoredItem } from '../core/types.ts';
import { LEVELS } from '../core/types.ts';
import type { AlertQuery, ItemQuery, Stats } from '../core/query.ts';
import { ConflictError, NotFoundError, SentinelError } from '../core/errors.ts';
import type { AggregateBucket, AggregateQuery, Store, TransitionRequest } from './store.ts';
import { applyTransition } from './workflow.ts';
import { mergeDetection } from './shared.ts';
import { esNames, ensureIndices, type EsNames } from './elasticsearch/mappings.ts';
import { aggregateSearch, alertSearch, alertSource, itemSearch, itemSource, type SearchBody, type Tokenize } from './elasticsearch/query.ts';
import { BulkWriteError, bulkWrite, describeDrop, isTransient, writeDeadLetters, type BulkDrop, type BulkOp } from './elasticsearch/bulk.ts';
import { withJoinedTokens } from '../text/tokens.ts';

export { esNames, ITEM_MAPPINGS, ALERT_MAPPINGS, itemsPolicy } from './elasticsearch/mappings.ts';
export { BulkWriteError } from './elasticsearch/bulk.ts';

export interface ElasticsearchStoreOptions {
  /** Segments query text and alert text the same way items were segmented. */
  tokenize: Tokenize;
  /** Prefix of every index, alias, template and policy name. Default `sentinel-`. */
  prefix?: string;
  /** How long a rolled-over items index is kept (ILM `min_age` of the delete phase). Default `180d`. Alerts are kept. */
  itemRetention?: string;
  /** Default `wait_for`: a search right after a write sees it, without forcing a refresh per batch. */
  refresh?: estypes.Refresh;
  /** Re-sends of items answered 429 by the bulk helper. Default 3. */
  bulkRetries?: number;
  /** Milliseconds between those re-sends. Default 1000. */
  bulkWait?: number;
  /** Re-reads when an alert changed between our read and our conditional write. Default 3. */
  conflictRetries?: number;
  shards?: number;
  replicas?: number;
  /** close() closes the client too. Default true. */
  ownsClient?: boolean;
  now?: () => Date;
}

const DURATION = /^\d+(d|h|m|s|ms|micros|nanos)$/;
/** Large enough for any single batch; ids lookups are chunked to it. */
const LOOKUP_CHUNK = 1000;

type Stored<T> = { doc: T };
type Bucket = { key: string; doc_count: number };

/**
 * The distributed store. Items live in rolling indices behind the `${prefix}items` write alias
 * (ILM deletes old ones); alerts in one index behind `${prefix}alerts`, updated in place with
 * optimistic concurrency (seq_no / primary_term) so a detection refresh never overwrites an
 * officer's transition. Full text is a `match` over our own jieba tokens, as the rules see them.
 */
export class ElasticsearchStore implements Store {
  readonly kind = 'elasticsearch';
  readonly names: EsNames;
  private readonly tokenize: Tokenize;
  private readonly refresh: estypes.Refresh;
  private readonly bulkRetries: number;
  private readonly bulkWait: number;
  private readonly conflictRetries: number;
  private readonly retention: string;
  private readonly shards: number;
  private readonly replicas: number;
  private readonly ownsClient: boolean;
  private readonly now: () => Date;
  private setup: Promise<void> | null = null;

  constructor(
    readonly client: Client,
    opts: ElasticsearchStoreOptions,
  ) {
    this.names = esNames(opts.prefix ?? 'sentinel-');
    this.tokenize = opts.tokenize;
    this.retention = opts.itemRetention ?? '180d';
    if (!DURATION.test(this.retention)) {
      throw new SentinelError(`elasticsearch item retention "${this.retention}": expected a duration such as 180d or 4320h`);
    }
    this.refresh = opts.refresh ?? 'wait_for';
    this.bulkRetries = opts.bulkRetries ?? 3;
    this.bulkWait = opts.bulkWait ?? 1000;
    this.conflictRetries = opts.conflictRetries ?? 3;
    this.shards = opts.shards ?? 1;
    this.replicas = opts.replicas ?? 1;
    this.ownsClient = opts.ownsClient ?? true;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * From a store spec such as `https://user:pass@es.internal:9200?prefix=sentinel-&retention=180d`.
   * Basic auth may sit in the URL; an API key comes from SENTINEL_ES_API_KEY, never from the URL.
   */
  static fromSpec(spec: string, tokenize: Tokenize, env: NodeJS.ProcessEnv = process.env): ElasticsearchStore {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new SentinelError(`SENTINEL_STORE=${spec}: not a URL; expected http(s)://es-host:9200`);
    }
    const known = new Set(['prefix', 'retention']);
    const unknown = [...url.searchParams.keys()].filter((k) => !known.has(k));
    if (unknown.length) {
      throw new SentinelError(`SENTINEL_STORE: unknown parameter(s) ${unknown.join(', ')}; allowed: prefix, retention`);
    }
    const prefix = url.searchParams.get('prefix') ?? env.SENTINEL_ES_PREFIX ?? undefined;
    const itemRetention = url.searchParams.get('retention') ?? env.SENTINEL_ES_ITEM_RETENTION ?? undefined;
    url.search = '';
    const apiKey = env.SENTINEL_ES_API_KEY;
    const client = new Client({ node: url.toString(), ...(apiKey ? { auth: { apiKey } } : {}) });
    return new ElasticsearchStore(client, { tokenize, prefix, itemRetention });
  }

  /** Templates, the ILM policy and the first indices; once per store, retried after a failure. */
  ready(): Promise<void> {
    this.setup ??= ensureIndices(this.client, this.names, {
      retention: this.retention,
      shards: this.shards,
      replicas: this.replicas,
    }).catch((e) => {
      this.setup = null;
      throw esError('setting up indices', e);
    });
    return this.setup;
  }

  async upsertItems(items: ScoredItem[]): Promise<void> {
    if (!items.length) return;
    await this.ready();
    // an id seen before is rewritten where it lives, so a replay after a rollover does not duplicate it
    const located = await this.locate(items.map((i) => i.id));
    const ops: BulkOp[] = items.map((it) => ({
      id: it.id,
      index: located.get(it.id) ?? this.names.items,
      document: itemSource(it),
    }));
    const drops = await this.bulk('items', ops);
    await this.fail('items', 'item', drops, [], items.length);
  }

  async upsertAlerts(alerts: Alert[]): Promise<void> {
    if (!alerts.length) return;
    await this.ready();
    const byId = new Map<string, Alert[]>();
    for (const a of alerts) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
    const failed: BulkDrop[] = [];
    let pending = [...byId.keys()];
    let conflicts: BulkDrop[] = [];
    for (let attempt = 0; pending.length && attempt <= this.conflictRetries; attempt++) {
      const existing = await this.readAlerts(pending);
      const ops: BulkOp[] = pending.map((id) => {
        const cur = existing.get(id);
        // fold in batch order, exactly as the embedded store merges one row after another
        let merged: Alert | undefined = cur?.alert;
        for (const inc of byId.get(id)!) merged = merged ? mergeDetection(merged, inc) : inc;
        return cur
          ? { id, index: cur.index, document: alertSource(merged!, this.tokenize), ifSeqNo: cur.seqNo, ifPrimaryTerm: cur.primaryTerm }
          : { id, index: this.names.alerts, document: alertSource(merged!, this.tokenize), create: true };
      });
      const drops = await this.bulk('alerts', ops);
      // 409: an officer (or another worker) changed the alert after we read it; read again and re-merge
      conflicts = drops.filter((d) => d.status === 409);
      failed.push(...drops.filter((d) => d.status !== 409));
      pending = conflicts.map((d) => d.id);
    }
    await this.fail('alerts', 'alert', failed, conflicts, byId.size);
  }

  async getItem(id: string): Promise<ScoredItem | null> {
    return (await this.getItems([id]))[0] ?? null;
  }

  async getItems(ids: string[]): Promise<ScoredItem[]> {
    if (!ids.length) return [];
    await this.ready();
    const found = new Map<string, ScoredItem>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const chunk = unique.slice(i, i + LOOKUP_CHUNK);
      // items span several indices, where get/mget cannot go through the alias
      const res = await call('reading items', () =>
        this.client.search<Stored<ScoredItem>>({ index: this.names.items, query: { ids: { values: chunk } }, size: chunk.length, _source: ['doc'] }),
      );
      for (const h of res.hits.hits) if (h._source) found.set(h._id!, withJoinedTokens(h._source.doc));
    }
    return ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  async getAlert(id: string): Promise<Alert | null> {
    await this.ready();
    const res = await call('reading an alert', () =>
      this.client.get<Stored<Alert>>({ index: this.names.alerts, id }, { ignore: [404] }),
    );
    return res.found && res._source ? res._source.doc : null;
  }

  async searchItems(q: ItemQuery): Promise<Page<ScoredItem>> {
    await this.ready();
    const page = await this.page<ScoredItem>(this.names.items, itemSearch(q, this.tokenize));
    // A document written before tokens were joined carries a list.
    return { ...page, items: page.items.map(withJoinedTokens) };
  }

  async searchAlerts(q: AlertQuery): Promise<Page<Alert>> {
    await this.ready();
    return this.page<Alert>(this.names.alerts, alertSearch(q, this.tokenize));
  }

  private async page<T>(index: string, body: SearchBody): Promise<Page<T>> {
    const res = await call(`searching ${index}`, () => this.client.search<Stored<T>>({ index, ...body }));
    const total = res.hits.total;
    return {
      total: typeof total === 'number' ? total : (total?.value ?? 0),
      items: res.hits.hits.flatMap((h) => (h._source ? [h._source.doc] : [])),
    };
  }

  /**
   * Read, apply the workflow, write only if nobody wrote in between. A 409 means the alert
   * changed under us: read it again and re-apply, so the workflow rules (and expectedVersion)
   * judge the current state, as they do inside the embedded store's transaction. Still losing
   * the race after the retries is a ConflictError.
   */
  async transition(id: string, req: TransitionRequest): Promise<Alert> {
    await this.ready();
    for (let attempt = 0; attempt <= this.conflictRetries; attempt++) {
      const got = await call('reading an alert', () =>
        this.client.get<Stored<Alert>>({ index: this.names.alerts, id }, { ignore: [404] }),
      );
      if (!got.found || !got._source) throw new NotFoundError(`alert ${id} not found`);
      const next = applyTransition(got._source.doc, req, this.now());
      try {
        await this.client.index({
          index: got._index,
          id,
          document: alertSource(next, this.tokenize),
          if_seq_no: got._seq_no,
          if_primary_term: got._primary_term,
          refresh: this.refresh,
        });
        return next;
      } catch (e) {
        if (responseStatus(e) === 409) continue;
        throw esError('updating an alert', e);
      }
    }
    throw new ConflictError(`alert ${id} was changed by someone else while ${req.action} was being saved; reload it and try again`);
  }

  async stats(): Promise<Stats> {
    await this.ready();
    const terms = (field: string, size: number) => ({ terms: { field, size } });
    const [items, alerts] = await call('counting', () =>
      Promise.all([
        this.client.search({
          index: this.names.items,
          size: 0,
          track_total_hits: true,
          aggs: { bySource: terms('source_id', 1000), byKind: terms('kind', 10) },
        }),
        this.client.search({
          index: this.names.alerts,
          size: 0,
          track_total_hits: true,
          query: { bool: { must_not: [{ exists: { field: 'merged_into' } }] } },
          aggs: { byLevel: terms('level', 10), byStatus: terms('status', 10) },
        }),
      ]),
    );
    return {
      items: { total: totalOf(items), bySource: buckets(items, 'bySource'), byKind: buckets(items, 'byKind') },
      alerts: { total: totalOf(alerts), byLevel: buckets(alerts, 'byLevel'), byStatus: buckets(alerts, 'byStatus') },
    };
  }

  async aggregate(q: AggregateQuery): Promise<AggregateBucket[]> {
    await this.ready();
    const res = await call('aggregating items', () =>
      this.client.search({ index: this.names.items, ...aggregateSearch(q, this.tokenize) }),
    );
    type TimeBucket = { key: number; doc_count: number };
    type KeyBucket = { key: string | number; doc_count: number; time?: { buckets: TimeBucket[] } };
    const keys = (res.aggregations?.keys as { buckets?: KeyBucket[] } | undefined)?.buckets ?? [];
    const label = (k: string | number) => (q.groupBy === 'level' ? LEVELS[Number(k)]! : String(k));
    // the buckets already come in the embedded store's order: count desc, key asc, then time asc
    return keys.flatMap((b) =>
      q.interval
        ? (b.time?.buckets ?? []).map((t) => ({ key: label(b.key), time: new Date(t.key).toISOString(), count: t.doc_count }))
        : [{ key: label(b.key), count: b.doc_count }],
    );
  }

  /** Ready when the cluster answers and our indices are not red. */
  async ping(): Promise<void> {
    await this.ready();
    const h = await call('checking cluster health', () =>
      this.client.cluster.health({ index: [this.names.items, this.names.alerts], timeout: '5s' }),
    );
    if (h.status === 'red') {
      throw new SentinelError(`elasticsearch: cluster ${h.cluster_name} is red for ${this.names.items} / ${this.names.alerts}`, { retriable: true });
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  private bulk(what: string, ops: BulkOp[]): Promise<BulkDrop[]> {
    return call(`writing ${what}`, () =>
      bulkWrite(this.client, ops, { refresh: this.refresh, retries: this.bulkRetries, wait: this.bulkWait }),
    );
  }

  /** Where each known item id lives now (its concrete index). */
  private async locate(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const chunk = unique.slice(i, i + LOOKUP_CHUNK);
      const res = await call('locating items', () =>
        this.client.search({ index: this.names.items, query: { ids: { values: chunk } }, size: chunk.length, _source: false }),
      );
      for (const h of res.hits.hits) out.set(h._id!, h._index);
    }
    return out;
  }

  private async readAlerts(ids: string[]) {
    const res = await call('reading alerts', () => this.client.mget<Stored<Alert>>({ index: this.names.alerts, ids }));
    const out = new Map<string, { alert: Alert; index: string; seqNo: number; primaryTerm: number }>();
    for (const d of res.docs) {
      if ('found' in d && d.found && d._source && d._seq_no !== undefined && d._primary_term !== undefined) {
        out.set(d._id, { alert: d._source.doc, index: d._index, seqNo: d._seq_no, primaryTerm: d._primary_term });
      } else if ('error' in d) {
        throw esError('reading alerts', new Error(`${d._id}: ${d.error.type}: ${d.error.reason ?? ''}`), true);
      }
    }
    return out;
  }

  /**
   * Every failed document makes the batch fail (so the bus keeps the offset); permanent
   * failures are also written to the dead-letter index, since retrying will not fix them.
   */
  private async fail(what: string, kind: string, drops: BulkDrop[], conflicts: BulkDrop[], total: number): Promise<void> {
    const all = [...drops, ...conflicts];
    if (!all.length) return;
    const permanent = drops.filter((d) => !isTransient(d.status));
    let note = permanent.length ? `; recorded in ${this.names.deadLetters}` : '';
    try {
      await writeDeadLetters(this.client, this.names.deadLetters, kind, permanent, this.now());
    } catch (e) {
      note = `; dead letters NOT recorded: ${(e as Error).message}`;
    }
    throw new BulkWriteError(
      what,
      all.map((d) => d.id),
      permanent.map((d) => d.id),
      total,
      all.map((d) => (d.status === 409 ? `${d.id} → 409 kept conflicting` : describeDrop(d))).join('; ') + note,
    );
  }
}

function totalOf(res: estypes.SearchResponse): number {
  const t = res.hits.total;
  return typeof t === 'number' ? t : (t?.value ?? 0);
}

function buckets(res: estypes.SearchResponse, name: string): Record<string, number> {
  const agg = res.aggregations?.[name] as { buckets?: Bucket[] } | undefined;
  return Object.fromEntries((agg?.buckets ?? []).map((b) => [String(b.key), b.doc_count]));
}

/** Runs one client call and turns its failure into a SentinelError with the right `retriable`. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw esError(what, e);
  }
}

/** By name, not instanceof: the client ships CJS and ESM builds whose error classes differ. */
function responseStatus(e: unknown): number | null {
  return e instanceof Error && e.name === 'ResponseError' ? ((e as errors.ResponseError).statusCode ?? 0) : null;
}
const TRANSIENT_CLIENT_ERRORS = new Set(['ConnectionError', 'TimeoutError', 'NoLivingConnectionsError', 'RequestAbortedError']);

/**
 * Overloaded cluster, timeouts and lost connections are retriable; a request the cluster refused
 * (400 mapping error, 403, an index that should exist but does not) will be refused again.
 */
function esError(what: string, e: unknown, retriable?: boolean): Error {
  if (e instanceof SentinelError) return e;
  const status = responseStatus(e);
  if (status !== null) {
    const body = (e as errors.ResponseError).body as { error?: { type?: string; reason?: string } } | undefined;
    const detail = body?.error ? `${body.error.type}: ${body.error.reason ?? ''}` : (e as Error).message;
    return new SentinelError(`elasticsearch ${what}: ${status} ${detail}`, { retriable: retriable ?? isTransient(status), cause: e });
  }
  if (e instanceof Error && TRANSIENT_CLIENT_ERRORS.has(e.name)) {
    return new SentinelError(`elasticsearch ${what}: ${e.message}`, { retriable: true, cause: e });
  }
  if (e instanceof Error) return new SentinelError(`elasticsearch ${what}: ${e.message}`, { retriable: retriable ?? false, cause: e });
  return new SentinelError(`elasticsearch ${what}: ${String(e)}`, { retriable: retriable ?? false });
}
