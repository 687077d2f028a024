import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import type { Alert, ScoredItem } from '../../src/core/types.ts';
import type { StoreContents } from './helpers.ts';

// the mock is CommonJS (typed as an ES default export) and recognises only the CommonJS build's error classes
const require = createRequire(import.meta.url);
const Mock = require('@elastic/elasticsearch-mock') as typeof import('@elastic/elasticsearch-mock').default;
const { errors } = require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');

/**
 * A small stateful Elasticsearch for the fault suite, on a loopback port, so a pipeline reaches
 * it exactly as production does: `SENTINEL_STORE=http://127.0.0.1:PORT`, the factory, the real
 * client and its transport (which itself retries 502/503/504). Requests are routed by
 * @elastic/elasticsearch-mock's router, and answered the way the mock answers (a payload, or a
 * ResponseError for a status); the documents live here, with seq_no for optimistic concurrency.
 *
 * It understands what the store sends while the alerts stage runs: index setup, `_bulk`
 * (index / create, if_seq_no), `ids` searches, `_mget`, `GET _doc` and cluster health. Any other
 * search over a non-empty index is refused with a 400 — this fake does not pretend to evaluate
 * query DSL.
 *
 * `failBulk(kind)` makes every `_bulk` request fail in one of the ways a loaded or broken
 * cluster fails it, until `heal()`.
 */
export type BulkFault =
  /** 200 with every item rejected `es_rejected_execution_exception` (a full write queue) */
  | 'item-429'
  /** the whole request refused: 429 circuit_breaking_exception (heap pressure) */
  | 'request-429'
  /** every item 503 unavailable_shards_exception (a primary shard not active) */
  | 'item-503'
  /** the whole request: 503 cluster_block_exception / no master */
  | 'request-503'
  /** the whole request: 500 internal error */
  | 'request-500';

/** A request as the mock's router sees it (the mock's own Connection normalises it the same way). */
interface Req {
  method: string;
  path: string;
  querystring: Record<string, string>;
  body: unknown;
}

interface Doc {
  source: { doc: unknown } & Record<string, unknown>;
  seqNo: number;
}

function esError(status: number, type: string, reason: string, extra: Record<string, unknown> = {}) {
  return new errors.ResponseError({
    body: { error: { root_cause: [{ type, reason }], type, reason }, status, ...extra },
    statusCode: status,
    headers: {},
    warnings: null,
    meta: {} as never,
  });
}

export interface FakeEs {
  url: string;
  failBulk(kind: BulkFault): void;
  heal(): void;
  /** `_bulk` requests answered with `kind` so far */
  answered(kind: BulkFault | 'ok'): number;
  /** how many `_bulk` requests carried this document id */
  offered(id: string): number;
  /** every item and alert, read from the documents themselves (not through the store) */
  contents(): StoreContents;
  close(): Promise<void>;
}

export async function startFakeEs(): Promise<FakeEs> {
  const mock = new Mock();
  const indices = new Map<string, Map<string, Doc>>();
  const aliases = new Map<string, string>();
  let seq = 0;
  let fault: BulkFault | null = null;
  const answers = new Map<string, number>();
  const offers = new Map<string, number>();

  const concrete = (name: string): string | null => aliases.get(name) ?? (indices.has(name) ? name : null);
  const route = (method: string, path: string, fn: (p: Req) => unknown) => mock.add({ method, path }, fn as unknown as (p: MockPattern) => Record<string, unknown>);

  route('PUT', '/_ilm/policy/:name', () => ({ acknowledged: true }));
  route('PUT', '/_index_template/:name', () => ({ acknowledged: true }));
  route('HEAD', '/_alias/:name', (p) => (aliases.has(p.path.split('/').pop()!) ? '' : esError(404, 'aliases_not_found_exception', 'aliases missing')));
  route('HEAD', '/:index', (p) => (indices.has(p.path.slice(1)) ? '' : esError(404, 'index_not_found_exception', 'no such index')));
  route('PUT', '/:index', (p) => {
    const index = p.path.slice(1);
    if (indices.has(index)) return esError(400, 'resource_already_exists_exception', `index [${index}] already exists`);
    indices.set(index, new Map());
    for (const alias of Object.keys((p.body as { aliases?: Record<string, unknown> } | null)?.aliases ?? {})) aliases.set(alias, index);
    return { acknowledged: true, shards_acknowledged: true, index };
  });
  route('GET', '/_cluster/health/:index', () => ({ cluster_name: 'fake', status: 'green', number_of_nodes: 1 }));

  route('POST', '/_bulk', (p) => {
    const body = p.body as Record<string, unknown>[];
    const actions: { op: string; meta: { _index: string; _id: string; if_seq_no?: number }; doc: Doc['source'] }[] = [];
    for (let i = 0; i < body.length; i += 2) {
      const [op, meta] = Object.entries(body[i]!)[0] as [string, { _index: string; _id: string; if_seq_no?: number }];
      actions.push({ op, meta, doc: body[i + 1] as Doc['source'] });
      offers.set(meta._id, (offers.get(meta._id) ?? 0) + 1);
    }
    const kind = fault ?? 'ok';
    answers.set(kind, (answers.get(kind) ?? 0) + 1);
    if (fault === 'request-429') return esError(429, 'circuit_breaking_exception', '[parent] Data too large, data for [<http_request>] would be larger than limit', { bytes_wanted: 1_073_741_824 });
    if (fault === 'request-503') return esError(503, 'cluster_block_exception', 'blocked by: [SERVICE_UNAVAILABLE/2/no master];');
    if (fault === 'request-500') return esError(500, 'null_pointer_exception', 'Cannot invoke "Object.hashCode()" because "key" is null');
    const items = actions.map(({ op, meta, doc }) => {
      const index = concrete(meta._index);
      const fail = (status: number, type: string, reason: string) => ({ [op]: { _index: index ?? meta._index, _id: meta._id, status, error: { type, reason } } });
      if (fault === 'item-429') return fail(429, 'es_rejected_execution_exception', 'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=104857600, max_coordinating_and_primary_bytes=104857600]');
      if (fault === 'item-503') return fail(503, 'unavailable_shards_exception', `[${index}][0] primary shard is not active Timeout: [1m]`);
      if (!index) return fail(404, 'index_not_found_exception', `no such index [${meta._index}]`);
      const docs = indices.get(index)!;
      const cur = docs.get(meta._id);
      if (op === 'create' && cur) return fail(409, 'version_conflict_engine_exception', `[${meta._id}]: version conflict, document already exists`);
      if (meta.if_seq_no !== undefined && cur?.seqNo !== meta.if_seq_no) {
        return fail(409, 'version_conflict_engine_exception', `[${meta._id}]: version conflict, required seqNo [${meta.if_seq_no}]`);
      }
      docs.set(meta._id, { source: doc, seqNo: ++seq });
      return { [op]: { _index: index, _id: meta._id, status: cur ? 200 : 201, result: cur ? 'updated' : 'created', _seq_no: seq, _primary_term: 1 } };
    });
    return { took: 3, errors: items.some((it) => (Object.values(it)[0] as { status: number }).status >= 300), items };
  });

  const hit = (index: string, id: string, d: Doc, withSource: boolean) => ({ _index: index, _id: id, _score: null, ...(withSource ? { _source: d.source } : {}) });
  route('POST', '/:index/_search', (p) => {
    const index = concrete(p.path.split('/')[1]!);
    const body = p.body as { query?: { ids?: { values: string[] } }; _source?: unknown };
    const docs = index ? indices.get(index)! : new Map<string, Doc>();
    let hits: ReturnType<typeof hit>[];
    if (body.query?.ids) {
      hits = body.query.ids.values.flatMap((id) => (docs.has(id) ? [hit(index!, id, docs.get(id)!, body._source !== false)] : []));
    } else if (docs.size === 0) {
      hits = [];
    } else {
      return esError(400, 'search_phase_execution_exception', 'the fault suite’s fake cluster evaluates only ids queries');
    }
    return { took: 1, timed_out: false, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, hits: { total: { value: hits.length, relation: 'eq' }, max_score: null, hits } };
  });
  route('POST', '/:index/_mget', (p) => {
    const index = concrete(p.path.split('/')[1]!)!;
    const docs = indices.get(index)!;
    return {
      docs: (p.body as { ids: string[] }).ids.map((id) => {
        const d = docs.get(id);
        return d ? { _index: index, _id: id, _version: 1, _seq_no: d.seqNo, _primary_term: 1, found: true, _source: d.source } : { _index: index, _id: id, found: false };
      }),
    };
  });
  route('GET', '/:index/_doc/:id', (p) => {
    const [, name, , id] = p.path.split('/');
    const index = concrete(name!)!;
    const d = indices.get(index)?.get(decodeURIComponent(id!));
    if (!d) return esError(404, 'not_found', 'document missing', { _index: index, _id: id, found: false });
    return { _index: index, _id: id, _version: 1, _seq_no: d.seqNo, _primary_term: 1, found: true, _source: d.source };
  });

  // --- the HTTP side: what the mock's own Connection does, over a socket ---------------------
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const type = String(req.headers['content-type'] ?? '');
      const body = !text ? null : type.includes('x-ndjson') ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) : (JSON.parse(text) as unknown);
      const params: Req = { method: req.method!, path: decodeURIComponent(url.pathname), querystring: Object.fromEntries(url.searchParams), body };
      const resolver = mock.get(params as never) as ((p: unknown) => unknown) | null;
      let status = 200;
      let payload: unknown = resolver ? resolver(params) : { error: 'Mock not found', params };
      if (!resolver) status = 404;
      if (payload instanceof errors.ResponseError) {
        status = payload.statusCode ?? 500;
        payload = payload.body;
      }
      const out = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch', 'content-length': Buffer.byteLength(out) });
      res.end(req.method === 'HEAD' ? undefined : out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    failBulk: (kind) => void (fault = kind),
    heal: () => void (fault = null),
    answered: (kind) => answers.get(kind) ?? 0,
    offered: (id) => offers.get(id) ?? 0,
    contents: () => {
      const of = (prefix: string) => [...indices].filter(([name]) => name.startsWith(prefix)).flatMap(([, docs]) => [...docs.values()].map((d) => d.source.doc));
      const items = of('sentinel-items-') as ScoredItem[];
      return { items, alerts: of('sentinel-alerts-') as Alert[], rowCount: items.length };
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
