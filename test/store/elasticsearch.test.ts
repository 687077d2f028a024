/**
 * The Elasticsearch store against @elastic/elasticsearch-mock and the real client.
 *
 * Mock-verified here (the HTTP requests the adapter sends and how it reads realistic answers):
 * setup bodies (ILM policy, index templates, first indices behind write aliases) and that setup
 * runs once; bulk bodies (`_id` = our id, `tokens`, region prefixes, refresh=wait_for, the
 * concrete index of an already stored item); the query DSL of a combined filter; per-item bulk
 * failures (error listing ids, `retriable`, dead-letter records) and 429 re-sends; alert upserts
 * keeping workflow fields with if_seq_no/if_primary_term and re-merging after a 409; transition
 * conflicts; parsing of stats and aggregate responses; error classification.
 *
 * NOT verified here, only by test/conformance/store.elasticsearch.test.ts with ES_URL set: that a
 * real server accepts these bodies (template/mapping/ILM syntax, the `cjk` and custom analyzers),
 * that `match` over the whitespace-analysed tokens finds what FTS5 finds, that refresh=wait_for
 * gives read-your-writes, real seq_no conflicts, and ILM rollover/deletion over time.
 */
import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { Client } from '@elastic/elasticsearch';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import { ElasticsearchStore, BulkWriteError } from '../../src/store/elasticsearch.ts';
import { createStore } from '../../src/store/factory.ts';
import { AlertQuery, ItemQuery } from '../../src/core/query.ts';
import { ConflictError, NotFoundError, SentinelError } from '../../src/core/errors.ts';
import type { Alert, ScoredItem } from '../../src/core/types.ts';
import { alert, item, tokenize } from '../conformance/store.suite.ts';

// the mock is CommonJS (typed as an ES default export) and recognises only the CommonJS build's error classes
const require = createRequire(import.meta.url);
const Mock = require('@elastic/elasticsearch-mock') as typeof import('@elastic/elasticsearch-mock').default;
const { errors } = require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');

interface Req {
  method: string;
  path: string;
  querystring: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const shards = { total: 2, successful: 1, failed: 0 };

function esError(status: number, type: string, reason: string) {
  return new errors.ResponseError({
    body: { error: { root_cause: [{ type, reason }], type, reason }, status },
    statusCode: status,
    headers: {},
    warnings: null,
    meta: {} as never,
  });
}

/** A mocked cluster that logs every request; `ready` = templates and aliases already exist. */
function fakeEs({ ready = true } = {}) {
  const mock = new Mock();
  const log: Req[] = [];
  const client = new Client({ node: 'http://localhost:9200', Connection: mock.getConnection() as never, maxRetries: 0 });
  const route = (method: string, path: string, fn: (r: Req) => unknown) =>
    mock.add({ method, path }, (p: MockPattern) => {
      log.push(p as unknown as Req);
      return fn(p as unknown as Req) as Record<string, unknown>;
    });
  let created = ready;
  route('PUT', '/_ilm/policy/:name', () => ({ acknowledged: true }));
  route('PUT', '/_index_template/:name', () => ({ acknowledged: true }));
  route('HEAD', '/_alias/:name', () => (created ? '' : esError(404, 'aliases_not_found_exception', 'aliases missing')));
  route('HEAD', '/:index', () => (created ? '' : esError(404, 'index_not_found_exception', 'no such index')));
  route('PUT', '/:index', (r) => ({ acknowledged: true, shards_acknowledged: true, index: r.path.slice(1) }));
  const calls = (method: string, path: string | RegExp) =>
    log.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  const markCreated = () => (created = true);
  return { mock, client, log, route, calls, markCreated };
}

function storeOn(es: ReturnType<typeof fakeEs>, opts: Partial<ConstructorParameters<typeof ElasticsearchStore>[1]> = {}) {
  return new ElasticsearchStore(es.client, { tokenize, bulkWait: 1, ...opts });
}

type BulkItemReply = { status: number; error?: { type: string; reason: string } };
/** Answers a bulk request the way ES does: one item per action, `errors` when any failed. */
function bulkReply(body: Req['body'], outcome: (id: string, index: string) => BulkItemReply = () => ({ status: 201 })) {
  const items = [];
  for (let i = 0; i < body.length; i += 2) {
    const [op, meta] = Object.entries(body[i] as Record<string, { _index: string; _id: string }>)[0]!;
    const o = outcome(meta._id, meta._index);
    const index = meta._index.includes('-0000') ? meta._index : `${meta._index}-000001`;
    items.push({
      [op]:
        o.status < 300
          ? { _index: index, _id: meta._id, _version: 1, result: 'created', _shards: shards, _seq_no: i / 2, _primary_term: 1, status: o.status }
          : { _index: index, _id: meta._id, status: o.status, error: { ...o.error, index_uuid: 'kPz7cZ0gR0ahh5lJpH0SNw', shard: '0', index } },
    });
  }
  return { took: 7, errors: items.some((it) => Object.values(it)[0]!.status >= 300), items };
}

const searchReply = <T>(docs: { index: string; id: string; doc?: T }[], total = docs.length) => ({
  took: 2,
  timed_out: false,
  _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
  hits: {
    total: { value: total, relation: 'eq' },
    max_score: null,
    hits: docs.map((d) => ({ _index: d.index, _id: d.id, _score: null, ...(d.doc ? { _source: { doc: d.doc } } : {}) })),
  },
});

const getReply = (a: Alert, seqNo: number) => ({
  _index: 'sentinel-alerts-000001',
  _id: a.id,
  _version: seqNo + 1,
  _seq_no: seqNo,
  _primary_term: 1,
  found: true,
  _source: { doc: a },
});

const notFound = (id: string) => ({ _index: 'sentinel-alerts-000001', _id: id, found: false });

describe('ElasticsearchStore setup', () => {
  it('on first use puts the ILM policy and templates, then bootstraps write aliases and the dead-letter index, once', async () => {
    const es = fakeEs({ ready: false });
    es.route('POST', '/:index/_search', () => searchReply([]));
    const store = storeOn(es, { itemRetention: '90d' });
    await store.searchItems(ItemQuery.parse({}));
    es.markCreated();
    await store.searchItems(ItemQuery.parse({}));

    const [policy] = es.calls('PUT', '/_ilm/policy/sentinel-items-policy');
    expect(policy!.body.policy.phases).toEqual({
      hot: { actions: { rollover: { max_age: '30d', max_primary_shard_size: '50gb' } } },
      delete: { min_age: '90d', actions: { delete: {} } },
    });

    const templates = Object.fromEntries(es.calls('PUT', /^\/_index_template\//).map((r) => [r.path.split('/').pop(), r.body]));
    expect(Object.keys(templates).sort()).toEqual(['sentinel-alerts', 'sentinel-dead-letters', 'sentinel-items']);
    const items = templates['sentinel-items'];
    expect(items.index_patterns).toEqual(['sentinel-items-*']);
    expect(items.template.settings['index.lifecycle.name']).toBe('sentinel-items-policy');
    expect(items.template.settings['index.lifecycle.rollover_alias']).toBe('sentinel-items');
    expect(items.template.settings.analysis.analyzer.sentinel_tokens).toEqual({ type: 'custom', tokenizer: 'whitespace', filter: ['lowercase'] });
    const props = items.template.mappings.properties;
    expect(props.tokens).toEqual({ type: 'text', analyzer: 'sentinel_tokens' });
    expect(props.title).toEqual({ type: 'text', analyzer: 'cjk' });
    expect(props.text).toEqual({ type: 'text', analyzer: 'cjk' });
    expect(props.doc).toEqual({ type: 'object', enabled: false });
    for (const f of ['id', 'level', 'category', 'source_id', 'kind', 'region_prefixes']) expect(props[f]).toEqual({ type: 'keyword' });
    expect(props.published_at).toEqual({ type: 'date' });
    expect(props.level_rank.type).toBe('byte');
    // alerts are kept: no lifecycle policy on their template
    const alerts = templates['sentinel-alerts'];
    expect(alerts.template.settings['index.lifecycle.name']).toBeUndefined();
    expect(alerts.template.mappings.properties.status).toEqual({ type: 'keyword' });
    expect(alerts.template.mappings.properties.last_seen_at).toEqual({ type: 'date' });

    const created = es.calls('PUT', /^\/sentinel-/);
    expect(created.map((r) => [r.path, r.body ?? null])).toEqual([
      ['/sentinel-items-000001', { aliases: { 'sentinel-items': { is_write_index: true } } }],
      ['/sentinel-alerts-000001', { aliases: { 'sentinel-alerts': { is_write_index: true } } }],
      ['/sentinel-dead-letters', null],
    ]);
    // the second search did not set anything up again
    expect(es.calls('PUT', /^\/_ilm/)).toHaveLength(1);
  });

  it('treats an index another worker created in between as done, and creates nothing when aliases exist', async () => {
    const es = fakeEs({ ready: false });
    es.mock.clear({ method: 'PUT', path: '/:index' });
    es.route('PUT', '/:index', (r) => esError(400, 'resource_already_exists_exception', `index [${r.path.slice(1)}/x] already exists`));
    es.route('POST', '/:index/_search', () => searchReply([]));
    await expect(storeOn(es).searchItems(ItemQuery.parse({}))).resolves.toEqual({ total: 0, items: [] });

    const again = fakeEs({ ready: true });
    again.route('POST', '/:index/_search', () => searchReply([]));
    await storeOn(again).searchItems(ItemQuery.parse({}));
    expect(again.calls('PUT', /^\/sentinel-/)).toEqual([]);
  });

  it('a failed setup is retried on the next call instead of being cached', async () => {
    const es = fakeEs({ ready: true });
    let down = true;
    es.mock.clear({ method: 'PUT', path: '/_ilm/policy/:name' });
    es.route('PUT', '/_ilm/policy/:name', () => (down ? esError(503, 'master_not_discovered_exception', 'no master') : { acknowledged: true }));
    es.route('POST', '/:index/_search', () => searchReply([]));
    const store = storeOn(es);
    const err = await store.searchItems(ItemQuery.parse({})).catch((e) => e);
    expect(err).toBeInstanceOf(SentinelError);
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('master_not_discovered_exception');
    down = false;
    await expect(store.searchItems(ItemQuery.parse({}))).resolves.toEqual({ total: 0, items: [] });
  });

  it('refuses a prefix that cannot name an index and a retention that is not a duration', () => {
    const es = fakeEs();
    expect(() => storeOn(es, { prefix: 'Sentinel-' })).toThrow(/lower-case/);
    expect(() => storeOn(es, { itemRetention: 'half a year' })).toThrow(/180d/);
  });
});

describe('ElasticsearchStore writes', () => {
  const milk = item({
    id: 'i2',
    title: '于都县超市销售过期牛奶',
    body: '消费者投诉超市货架上的牛奶已过期。',
    regions: ['360731'],
    risk: true,
    level: '黄',
    category: '假冒伪劣过期',
    score: 7,
    kind: 'complaint',
    sourceId: 'hotline',
    fields: { 被投诉主体: '于都县某超市' },
    hits: [
      { rule: 'expired', group: 'g', term: '过期', start: 8, end: 10, weight: 3, negated: false },
      { rule: 'expired', group: 'g', term: '过期', start: 30, end: 32, weight: 3, negated: false },
      { rule: 'fake', group: 'g', term: '假冒', start: 0, end: 0, weight: 3, negated: true },
    ],
    publishedAt: '2026-11-27T09:00:00+08:00',
  });
  const canteen = item({ id: 'i1', title: '南昌市某小学食堂学生午餐后呕吐', body: '东湖区23名学生送医。', regions: ['360102'] });

  it('bulk-indexes items with _id = our id, our tokens and region prefixes, waiting for refresh; a stored item is rewritten where it lives', async () => {
    const es = fakeEs();
    // i1 was stored before the last rollover, so it lives in the older index
    es.route('POST', '/sentinel-items/_search', () => searchReply([{ index: 'sentinel-items-000001', id: 'i1' }]));
    es.route('POST', '/_bulk', (r) => bulkReply(r.body));
    await storeOn(es).upsertItems([canteen, milk]);

    const [lookup] = es.calls('POST', '/sentinel-items/_search');
    expect(lookup!.body).toEqual({ query: { ids: { values: ['i1', 'i2'] } }, size: 2, _source: false });
    const [bulk] = es.calls('POST', '/_bulk');
    expect(bulk!.querystring.refresh).toBe('wait_for');
    expect(bulk!.body.filter((_: unknown, i: number) => i % 2 === 0)).toEqual([
      { index: { _index: 'sentinel-items-000001', _id: 'i1' } },
      { index: { _index: 'sentinel-items', _id: 'i2' } },
    ]);
    const doc = bulk!.body[3];
    expect(doc).toMatchObject({
      id: 'i2',
      source_id: 'hotline',
      kind: 'complaint',
      category: '假冒伪劣过期',
      level: '黄',
      level_rank: 2,
      risk: true,
      score: 7,
      region_prefixes: ['36', '3607', '360731'],
      region: '360731',
      terms: ['过期'],
      business: '于都县某超市',
      published_at: '2026-11-27T01:00:00.000Z',
      title: '于都县超市销售过期牛奶',
    });
    expect(doc.tokens).toBe(milk.tokens);
    expect(doc.tokens).toContain('过期 牛奶');
    expect(doc.doc).toEqual(milk);
  });

  it('per-item failures: the error lists the failed ids, is not retriable when only permanent ones failed, and dead letters are written', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () => searchReply([]));
    es.route('POST', '/_bulk', (r) =>
      bulkReply(r.body, (id, index) =>
        index === 'sentinel-dead-letters' || id !== 'i2'
          ? { status: 201 }
          : { status: 400, error: { type: 'document_parsing_exception', reason: "[1:412] failed to parse field [published_at] of type [date] in document with id 'i2'" } },
      ),
    );
    const err = await storeOn(es, { now: () => new Date('2026-11-28T03:00:00Z') }).upsertItems([canteen, milk]).catch((e) => e);
    expect(err).toBeInstanceOf(BulkWriteError);
    expect(err).toBeInstanceOf(SentinelError);
    expect(err.failedIds).toEqual(['i2']);
    expect(err.permanentIds).toEqual(['i2']);
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/1 of 2 items not stored \(i2\)/);
    expect(err.message).toContain('document_parsing_exception');

    const dead = es.calls('POST', '/_bulk').find((r) => r.body[0].index._index === 'sentinel-dead-letters')!;
    expect(dead.body[0]).toEqual({ index: { _index: 'sentinel-dead-letters', _id: 'item:i2' } });
    expect(dead.body[1]).toMatchObject({ at: '2026-11-28T03:00:00.000Z', kind: 'item', id: 'i2', status: 400, error_type: 'document_parsing_exception' });
    expect(dead.body[1].doc.doc).toEqual(milk);
  });

  it('a transient item failure (503) makes the error retriable; only the permanent one is dead-lettered', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () => searchReply([]));
    es.route('POST', '/_bulk', (r) =>
      bulkReply(r.body, (id, index) =>
        index === 'sentinel-dead-letters'
          ? { status: 201 }
          : id === 'i1'
            ? { status: 503, error: { type: 'unavailable_shards_exception', reason: '[sentinel-items-000001][0] primary shard is not active' } }
            : { status: 400, error: { type: 'document_parsing_exception', reason: 'bad date' } },
      ),
    );
    const err = await storeOn(es).upsertItems([canteen, milk]).catch((e) => e);
    expect(err.failedIds.sort()).toEqual(['i1', 'i2']);
    expect(err.retriable).toBe(true);
    const dead = es.calls('POST', '/_bulk').filter((r) => r.body[0].index._index === 'sentinel-dead-letters');
    expect(dead.flatMap((r) => r.body.filter((_: unknown, i: number) => i % 2 === 0).map((a: { index: { _id: string } }) => a.index._id))).toEqual(['item:i2']);
  });

  it('items answered 429 are re-sent by the bulk helper and the batch succeeds', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () => searchReply([]));
    let round = 0;
    es.route('POST', '/_bulk', (r) => {
      round++;
      return bulkReply(r.body, (id) =>
        round === 1 && id === 'i2' ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' } } : { status: 201 },
      );
    });
    await storeOn(es).upsertItems([canteen, milk]);
    const bulks = es.calls('POST', '/_bulk');
    expect(bulks).toHaveLength(2);
    expect(bulks[1]!.body[0]).toEqual({ index: { _index: 'sentinel-items', _id: 'i2' } });
  });

  it('429s that outlast the retries fail the batch as retriable, with no dead letter', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () => searchReply([]));
    es.route('POST', '/_bulk', (r) => bulkReply(r.body, () => ({ status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } })));
    const err = await storeOn(es, { bulkRetries: 2 }).upsertItems([milk]).catch((e) => e);
    expect(err).toBeInstanceOf(BulkWriteError);
    expect(err.retriable).toBe(true);
    expect(err.failedIds).toEqual(['i2']);
    expect(es.calls('POST', '/_bulk')).toHaveLength(3);
    expect(es.calls('POST', '/_bulk').every((r) => r.body[0].index._index === 'sentinel-items')).toBe(true);
  });

  it('a cluster that cannot be reached is a retriable error', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () => new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200'));
    const err = await storeOn(es).upsertItems([milk]).catch((e) => e);
    expect(err).toBeInstanceOf(SentinelError);
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('ElasticsearchStore alerts', () => {
  const acked = alert({
    id: 'a1',
    status: 'acknowledged',
    version: 2,
    history: [{ at: '2026-11-28T02:10:00.000Z', action: 'acknowledge', actor: '张三', from: 'new', to: 'acknowledged' }],
  });

  it('upserts keep what officers did (merged from the stored doc) and write only the version that was read', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-alerts/_mget', (r) => ({
      docs: r.body.ids.map((id: string) => (id === 'a1' ? getReply(acked, 7) : notFound(id))),
    }));
    es.route('POST', '/_bulk', (r) => bulkReply(r.body));
    await storeOn(es).upsertAlerts([
      alert({ id: 'a1', level: '橙', itemIds: ['i9'], lastSeenAt: '2026-11-29T00:00:00.000Z' }),
      alert({ id: 'a2', title: '进口冻品无检疫证明' }),
    ]);
    const [bulk] = es.calls('POST', '/_bulk');
    expect(bulk!.body[0]).toEqual({ index: { _index: 'sentinel-alerts-000001', _id: 'a1', if_seq_no: 7, if_primary_term: 1 } });
    expect(bulk!.body[1]).toMatchObject({ status: 'acknowledged', version: 2, level: '橙', level_rank: 1, last_seen_at: '2026-11-29T00:00:00.000Z' });
    expect(bulk!.body[1].doc.history).toEqual(acked.history);
    expect(bulk!.body[1].doc.itemIds).toEqual(['i1', 'i9']);
    // a new alert is created, never blindly overwritten
    expect(bulk!.body[2]).toEqual({ create: { _index: 'sentinel-alerts', _id: 'a2' } });
    expect(bulk!.body[3].tokens).toBe(tokenize('进口冻品无检疫证明\n\n过期').join(' '));
  });

  it('when the alert changed after it was read (409), reads it again and merges into the new state', async () => {
    const es = fakeEs();
    const assigned = { ...acked, status: 'assigned' as const, assignee: '于都县市场监管局', version: 3 };
    let reads = 0;
    es.route('POST', '/sentinel-alerts/_mget', () => ({ docs: [++reads === 1 ? getReply(acked, 7) : getReply(assigned, 8)] }));
    es.route('POST', '/_bulk', (r) =>
      bulkReply(r.body, () =>
        r.body[0].index.if_seq_no === 7
          ? { status: 409, error: { type: 'version_conflict_engine_exception', reason: '[a1]: version conflict, required seqNo [7], primary term [1]. current document has seqNo [8] and primary term [1]' } }
          : { status: 200 },
      ),
    );
    await storeOn(es).upsertAlerts([alert({ id: 'a1', level: '红' })]);
    const bulks = es.calls('POST', '/_bulk');
    expect(bulks).toHaveLength(2);
    expect(bulks[1]!.body[0].index.if_seq_no).toBe(8);
    expect(bulks[1]!.body[1].doc).toMatchObject({ status: 'assigned', assignee: '于都县市场监管局', version: 3, level: '红' });
  });

  it('two copies of one alert in a batch fold in order before the write, as the embedded store does', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-alerts/_mget', (r) => ({ docs: r.body.ids.map(notFound) }));
    es.route('POST', '/_bulk', (r) => bulkReply(r.body));
    await storeOn(es).upsertAlerts([alert({ id: 'a3', level: '黄', itemIds: ['i1'] }), alert({ id: 'a3', level: '红', itemIds: ['i2'] })]);
    const [bulk] = es.calls('POST', '/_bulk');
    expect(bulk!.body).toHaveLength(2);
    expect(bulk!.body[1].doc).toMatchObject({ level: '红', itemIds: ['i1', 'i2'] });
  });

  it('transition writes with if_seq_no/if_primary_term of the read and waits for refresh', async () => {
    const es = fakeEs();
    const a = alert({ id: 'a1' });
    es.route('GET', '/sentinel-alerts/_doc/:id', () => getReply(a, 5));
    es.route('PUT', '/:index/_doc/:id', (r) => ({ _index: 'sentinel-alerts-000001', _id: 'a1', _version: 7, result: 'updated', _shards: shards, _seq_no: 6, _primary_term: 1 }));
    const next = await storeOn(es, { now: () => new Date('2026-11-28T04:00:00Z') }).transition('a1', { action: 'acknowledge', actor: '张三' });
    expect(next).toMatchObject({ status: 'acknowledged', version: 2, updatedAt: '2026-11-28T04:00:00.000Z' });
    const [put] = es.calls('PUT', '/sentinel-alerts-000001/_doc/a1');
    expect(put!.querystring).toEqual({ if_seq_no: '5', if_primary_term: '1', refresh: 'wait_for' });
    expect(put!.body.status).toBe('acknowledged');
    expect(put!.body.doc).toEqual(next);
  });

  it('a version conflict on every attempt is a ConflictError', async () => {
    const es = fakeEs();
    es.route('GET', '/sentinel-alerts/_doc/:id', () => getReply(alert({ id: 'a1' }), 5));
    es.route('PUT', '/:index/_doc/:id', () =>
      esError(409, 'version_conflict_engine_exception', '[a1]: version conflict, required seqNo [5], primary term [1]. current document has seqNo [6] and primary term [1]'),
    );
    const err = await storeOn(es, { conflictRetries: 2 }).transition('a1', { action: 'note', actor: '李四', note: '已电话联系' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(es.calls('PUT', /_doc/)).toHaveLength(3);
  });

  it('after a 409 the workflow judges the fresh state: the version the officer saw is gone → ConflictError', async () => {
    const es = fakeEs();
    let reads = 0;
    es.route('GET', '/sentinel-alerts/_doc/:id', () => (++reads === 1 ? getReply(alert({ id: 'a1' }), 5) : getReply({ ...acked, version: 2 }, 6)));
    es.route('PUT', '/:index/_doc/:id', () => esError(409, 'version_conflict_engine_exception', '[a1]: version conflict'));
    const err = await storeOn(es).transition('a1', { action: 'note', actor: '李四', note: '我来处理', expectedVersion: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toContain('you saw 1');
    expect(es.calls('PUT', /_doc/)).toHaveLength(1);
  });

  it('a 409 caused by a detection refresh (same workflow version) is retried and succeeds', async () => {
    const es = fakeEs();
    let reads = 0;
    es.route('GET', '/sentinel-alerts/_doc/:id', () => getReply(alert({ id: 'a1', level: ++reads === 1 ? '黄' : '红' }), 4 + reads));
    let writes = 0;
    es.route('PUT', '/:index/_doc/:id', () =>
      ++writes === 1 ? esError(409, 'version_conflict_engine_exception', '[a1]: version conflict') : { _index: 'sentinel-alerts-000001', _id: 'a1', result: 'updated', _seq_no: 7, _primary_term: 1 },
    );
    const next = await storeOn(es).transition('a1', { action: 'acknowledge', actor: '张三', expectedVersion: 1 });
    expect(next).toMatchObject({ status: 'acknowledged', level: '红', version: 2 });
    expect(es.calls('PUT', /_doc/)[1]!.querystring.if_seq_no).toBe('6');
  });

  it('transition of a missing alert is NotFoundError; getAlert of one is null', async () => {
    const es = fakeEs();
    es.route('GET', '/sentinel-alerts/_doc/:id', (r) => notFoundResponse(r.path.split('/').pop()!));
    const store = storeOn(es);
    await expect(store.transition('missing', { action: 'acknowledge', actor: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.getAlert('missing')).toBeNull();
  });
});

/** ES answers a missing document with HTTP 404 and `found: false`. */
function notFoundResponse(id: string) {
  return new errors.ResponseError({ body: notFound(id), statusCode: 404, headers: {}, warnings: null, meta: {} as never });
}

describe('ElasticsearchStore reads', () => {
  it('translates a combined filter (q + level + region + time range) into bool filters, newest first, with totals', async () => {
    const es = fakeEs();
    const milk = item({ id: 'i2', title: '于都县超市销售过期牛奶' });
    es.route('POST', '/sentinel-items/_search', () => searchReply([{ index: 'sentinel-items-000001', id: 'i2', doc: milk }], 41));
    const page = await storeOn(es).searchItems(
      ItemQuery.parse({ q: '过期牛奶', level: '红,黄', region: '360700', from: '2026-11-27', to: '2026-11-28T23:59:59+08:00', limit: 20, offset: 20 }),
    );
    expect(page).toEqual({ total: 41, items: [milk] });
    const [search] = es.calls('POST', '/sentinel-items/_search');
    expect(search!.body).toEqual({
      query: {
        bool: {
          filter: [
            { terms: { level: ['红', '黄'] } },
            { terms: { region_prefixes: ['3607'] } },
            { range: { published_at: { gte: '2026-11-27T00:00:00.000Z', lte: '2026-11-28T15:59:59.000Z' } } },
            { match: { tokens: { query: '过期 牛奶', operator: 'and' } } },
          ],
        },
      },
      sort: [{ published_at: { order: 'desc' } }, { id: { order: 'desc' } }],
      from: 20,
      size: 20,
      track_total_hits: true,
      _source: ['doc'],
    });
  });

  it('item filters for source, kind and risk; user text with query syntax is passed as plain tokens', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () => searchReply([]));
    await storeOn(es).searchItems(ItemQuery.parse({ source: 'samr,hotline', kind: 'complaint', risk: 'false', q: '"食堂" OR NEAR(' }));
    expect(es.calls('POST', '/sentinel-items/_search')[0]!.body.query.bool.filter).toEqual([
      { match: { tokens: { query: '食堂 OR NEAR', operator: 'and' } } },
      { terms: { source_id: ['samr', 'hotline'] } },
      { terms: { kind: ['complaint'] } },
      { term: { risk: false } },
    ]);
  });

  it('alert search filters status and first_seen_at, ordered by last_seen_at', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-alerts/_search', () => searchReply([]));
    await storeOn(es).searchAlerts(AlertQuery.parse({ status: 'new,assigned', region: '360000', from: '2026-11-01T00:00:00Z' }));
    const body = es.calls('POST', '/sentinel-alerts/_search')[0]!.body;
    expect(body.query.bool.filter).toEqual([
      { terms: { region_prefixes: ['36'] } },
      { range: { first_seen_at: { gte: '2026-11-01T00:00:00.000Z' } } },
      { terms: { status: ['new', 'assigned'] } },
    ]);
    expect(body.sort).toEqual([{ last_seen_at: { order: 'desc' } }, { id: { order: 'desc' } }]);
  });

  it('getItems searches ids across the rolled indices and answers in the order asked, skipping missing ones', async () => {
    const es = fakeEs();
    const a = item({ id: 'i1', title: '甲' });
    const b = item({ id: 'i3', title: '乙' });
    es.route('POST', '/sentinel-items/_search', () =>
      searchReply<ScoredItem>([
        { index: 'sentinel-items-000002', id: 'i3', doc: b },
        { index: 'sentinel-items-000001', id: 'i1', doc: a },
      ]),
    );
    const store = storeOn(es);
    expect((await store.getItems(['i1', 'nope', 'i3'])).map((i) => i.id)).toEqual(['i1', 'i3']);
    expect(es.calls('POST', '/sentinel-items/_search')[0]!.body).toEqual({ query: { ids: { values: ['i1', 'nope', 'i3'] } }, size: 3, _source: ['doc'] });
  });

  it('a search the cluster refuses (deep page) is a non-retriable error naming the reason', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () =>
      esError(400, 'illegal_argument_exception', 'Result window is too large, from + size must be less than or equal to: [10000] but was [10050].'),
    );
    const err = await storeOn(es).searchItems(ItemQuery.parse({ offset: 10000 })).catch((e) => e);
    expect(err).toBeInstanceOf(SentinelError);
    expect(err.retriable).toBe(false);
    expect(err.message).toContain('Result window is too large');
  });

  it('stats parses terms aggregations into the embedded store’s shape', async () => {
    const es = fakeEs();
    const agg = (buckets: [string, number][]) => ({ doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: buckets.map(([key, doc_count]) => ({ key, doc_count })) });
    es.route('POST', '/:index/_search', (r) =>
      r.path.startsWith('/sentinel-items/')
        ? { ...searchReply([], 3), aggregations: { bySource: agg([['hotline', 1], ['jx-news', 1], ['samr', 1]]), byKind: agg([['complaint', 1], ['news', 1], ['notice', 1]]) } }
        : { ...searchReply([], 3), aggregations: { byLevel: agg([['黄', 2], ['红', 1]]), byStatus: agg([['new', 2], ['acknowledged', 1]]) } },
    );
    const s = await storeOn(es).stats();
    expect(s).toEqual({
      items: { total: 3, bySource: { 'jx-news': 1, hotline: 1, samr: 1 }, byKind: { news: 1, complaint: 1, notice: 1 } },
      alerts: { total: 3, byLevel: { 红: 1, 黄: 2 }, byStatus: { new: 2, acknowledged: 1 } },
    });
    const items = es.calls('POST', '/sentinel-items/_search')[0]!.body;
    expect(items).toMatchObject({ size: 0, track_total_hits: true, aggs: { bySource: { terms: { field: 'source_id' } }, byKind: { terms: { field: 'kind' } } } });
    const alerts = es.calls('POST', '/sentinel-alerts/_search')[0]!.body;
    expect(alerts.aggs).toMatchObject({ byLevel: { terms: { field: 'level' } }, byStatus: { terms: { field: 'status' } } });
  });

  it('aggregate asks for the top keys (count desc, key asc) with daily UTC buckets and keeps that order', async () => {
    const es = fakeEs();
    const day = (iso: string, n: number) => ({ key_as_string: iso, key: Date.parse(iso), doc_count: n });
    es.route('POST', '/sentinel-items/_search', () => ({
      ...searchReply([], 9),
      aggregations: {
        keys: {
          doc_count_error_upper_bound: 0,
          sum_other_doc_count: 0,
          buckets: [
            { key: '过期', doc_count: 6, time: { buckets: [day('2026-11-27T00:00:00.000Z', 2), day('2026-11-28T00:00:00.000Z', 4)] } },
            { key: '呕吐', doc_count: 3, time: { buckets: [day('2026-11-28T00:00:00.000Z', 3)] } },
          ],
        },
      },
    }));
    const out = await storeOn(es).aggregate({ filter: { risk: true }, groupBy: 'term', interval: 'day', size: 10 });
    expect(out).toEqual([
      { key: '过期', time: '2026-11-27T00:00:00.000Z', count: 2 },
      { key: '过期', time: '2026-11-28T00:00:00.000Z', count: 4 },
      { key: '呕吐', time: '2026-11-28T00:00:00.000Z', count: 3 },
    ]);
    const body = es.calls('POST', '/sentinel-items/_search')[0]!.body;
    expect(body.size).toBe(0);
    expect(body.query.bool.filter).toEqual([{ term: { risk: true } }]);
    expect(body.aggs.keys.terms).toMatchObject({ field: 'terms', size: 10, order: [{ _count: 'desc' }, { _key: 'asc' }], exclude: [''] });
    expect(body.aggs.keys.aggs.time.date_histogram).toEqual({ field: 'published_at', calendar_interval: 'day', time_zone: 'UTC', min_doc_count: 1 });
  });

  it('aggregate by level counts by rank (ties order 红 before 黄, as in SQLite) and answers level names', async () => {
    const es = fakeEs();
    es.route('POST', '/sentinel-items/_search', () => ({
      ...searchReply([], 4),
      aggregations: { keys: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 2, doc_count: 3 }, { key: 0, doc_count: 1 }] } },
    }));
    expect(await storeOn(es).aggregate({ filter: {}, groupBy: 'level' })).toEqual([{ key: '黄', count: 3 }, { key: '红', count: 1 }]);
    const terms = es.calls('POST', '/sentinel-items/_search')[0]!.body.aggs.keys.terms;
    expect(terms).toEqual({ field: 'level_rank', size: 50, shard_size: 150, order: [{ _count: 'desc' }, { _key: 'asc' }] });
  });

  it('ping checks cluster health of our indices: red is a retriable failure', async () => {
    const es = fakeEs();
    let status = 'green';
    es.route('GET', '/_cluster/health/:index', () => ({ cluster_name: 'sentinel', status, timed_out: false, number_of_nodes: 1 }));
    const store = storeOn(es);
    await expect(store.ping()).resolves.toBeUndefined();
    expect(es.calls('GET', /_cluster\/health/)[0]!.path).toBe('/_cluster/health/sentinel-items,sentinel-alerts');
    status = 'red';
    const err = await store.ping().catch((e) => e);
    expect(err).toBeInstanceOf(SentinelError);
    expect(err.retriable).toBe(true);
  });
});

describe('ElasticsearchStore from a store spec', () => {
  it('takes prefix and retention from the URL and refuses unknown parameters', async () => {
    const s = ElasticsearchStore.fromSpec('http://es.internal:9200/?prefix=jx-sentinel-&retention=365d', tokenize, {});
    expect(s.kind).toBe('elasticsearch');
    expect(s.names.items).toBe('jx-sentinel-items');
    expect(s.names.deadLetters).toBe('jx-sentinel-dead-letters');
    await s.close();
    expect(() => ElasticsearchStore.fromSpec('http://es:9200?index=x', tokenize, {})).toThrow(/unknown parameter\(s\) index/);
    expect(() => ElasticsearchStore.fromSpec('http://es:9200?retention=forever', tokenize, {})).toThrow(/duration/);
  });

  it('the factory builds it for http(s):// specs without contacting the cluster', async () => {
    const store = await createStore('https://es.internal:9200?prefix=t-', '/nonexistent/never-opened.db', tokenize);
    expect(store.kind).toBe('elasticsearch');
    expect((store as ElasticsearchStore).names.alerts).toBe('t-alerts');
    await store.close();
  });
});
