import type { Client, estypes } from '@elastic/elasticsearch';

/** Every name the store uses, derived from one prefix so two deployments (or test runs) share a cluster safely. */
export interface EsNames {
  prefix: string;
  /** Read alias over every items index; also the rollover (write) alias. */
  items: string;
  itemsPattern: string;
  itemsFirstIndex: string;
  itemsPolicy: string;
  itemsTemplate: string;
  /** Alias with one write index: alerts are updated in place and kept for good. */
  alerts: string;
  alertsPattern: string;
  alertsFirstIndex: string;
  alertsTemplate: string;
  deadLetters: string;
  deadLettersTemplate: string;
}

export function esNames(prefix: string): EsNames {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(prefix)) {
    throw new Error(`elasticsearch index prefix "${prefix}": use lower-case letters, digits, '.', '_' or '-' (index names must be lower case)`);
  }
  return {
    prefix,
    items: `${prefix}items`,
    itemsPattern: `${prefix}items-*`,
    itemsFirstIndex: `${prefix}items-000001`,
    itemsPolicy: `${prefix}items-policy`,
    itemsTemplate: `${prefix}items`,
    alerts: `${prefix}alerts`,
    alertsPattern: `${prefix}alerts-*`,
    alertsFirstIndex: `${prefix}alerts-000001`,
    alertsTemplate: `${prefix}alerts`,
    deadLetters: `${prefix}dead-letters`,
    deadLettersTemplate: `${prefix}dead-letters`,
  };
}

/**
 * `tokens` holds our own jieba tokens joined by spaces, so the index sees exactly what the rules
 * saw and needs no plugin. Lower-casing mirrors SQLite FTS5's unicode61 case folding (QS = qs).
 */
const analysis: estypes.IndicesIndexSettingsAnalysis = {
  analyzer: {
    sentinel_tokens: { type: 'custom', tokenizer: 'whitespace', filter: ['lowercase'] },
  },
};

const keyword = { type: 'keyword' } as const;
const date = { type: 'date' } as const;
/** The stored document itself: kept whole in _source, never parsed into mappings. */
const opaque = { type: 'object', enabled: false } as const;
const tokens = { type: 'text', analyzer: 'sentinel_tokens' } as const;
const cjk = { type: 'text', analyzer: 'cjk' } as const;

export const ITEM_MAPPINGS: estypes.MappingTypeMapping = {
  // strict: this adapter is the only writer; a stray field is a bug to hear about, not to index
  dynamic: 'strict',
  properties: {
    id: keyword,
    source_id: keyword,
    kind: keyword,
    category: keyword,
    level: keyword,
    level_rank: { type: 'byte' },
    risk: { type: 'boolean' },
    score: { type: 'float' },
    region_prefixes: keyword,
    region: keyword,
    terms: keyword,
    business: keyword,
    published_at: date,
    tokens,
    title: cjk,
    text: cjk,
    doc: opaque,
  },
};

export const ALERT_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: keyword,
    level: keyword,
    level_rank: { type: 'byte' },
    category: keyword,
    status: keyword,
    merged_into: keyword,
    region_prefixes: keyword,
    first_seen_at: date,
    last_seen_at: date,
    version: { type: 'integer' },
    score: { type: 'float' },
    tokens,
    title: cjk,
    summary: cjk,
    doc: opaque,
  },
};

export const DEAD_LETTER_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    at: date,
    kind: keyword,
    id: keyword,
    status: { type: 'short' },
    error_type: keyword,
    reason: { type: 'text' },
    error: opaque,
    doc: opaque,
  },
};

/** Items roll over monthly (or at 50 GB a shard) and each rolled index is deleted `retention` later. */
export function itemsPolicy(retention: string): estypes.IlmPolicy {
  return {
    _meta: { managed_by: 'food-safety-sentinel' },
    phases: {
      hot: { actions: { rollover: { max_age: '30d', max_primary_shard_size: '50gb' } } },
      delete: { min_age: retention, actions: { delete: {} } },
    },
  };
}

export interface SetupOptions {
  retention: string;
  shards: number;
  replicas: number;
}

/**
 * Idempotent: templates and the policy are PUT (same body, same result), the first indices are
 * created only when their alias is missing, and a concurrent creator's "already exists" is success.
 */
export async function ensureIndices(client: Client, n: EsNames, opts: SetupOptions): Promise<void> {
  const settings = (extra: estypes.IndicesIndexSettings = {}): estypes.IndicesIndexSettings => ({
    number_of_shards: opts.shards,
    number_of_replicas: opts.replicas,
    analysis,
    ...extra,
  });
  await client.ilm.putLifecycle({ name: n.itemsPolicy, policy: itemsPolicy(opts.retention) });
  await client.indices.putIndexTemplate({
    name: n.itemsTemplate,
    index_patterns: [n.itemsPattern],
    priority: 500,
    _meta: { managed_by: 'food-safety-sentinel' },
    template: {
      settings: settings({ 'index.lifecycle.name': n.itemsPolicy, 'index.lifecycle.rollover_alias': n.items }),
      mappings: ITEM_MAPPINGS,
    },
  });
  await client.indices.putIndexTemplate({
    name: n.alertsTemplate,
    index_patterns: [n.alertsPattern],
    priority: 500,
    _meta: { managed_by: 'food-safety-sentinel' },
    template: { settings: settings(), mappings: ALERT_MAPPINGS },
  });
  await client.indices.putIndexTemplate({
    name: n.deadLettersTemplate,
    index_patterns: [n.deadLetters],
    priority: 500,
    _meta: { managed_by: 'food-safety-sentinel' },
    template: { settings: settings(), mappings: DEAD_LETTER_MAPPINGS },
  });
  await bootstrap(client, n.items, n.itemsFirstIndex, true);
  await bootstrap(client, n.alerts, n.alertsFirstIndex, true);
  await bootstrap(client, null, n.deadLetters, false);
}

async function bootstrap(client: Client, alias: string | null, index: string, writeAlias: boolean): Promise<void> {
  const exists = alias ? await client.indices.existsAlias({ name: alias }) : await client.indices.exists({ index });
  if (exists) return;
  try {
    await client.indices.create({
      index,
      ...(alias ? { aliases: { [alias]: writeAlias ? { is_write_index: true } : {} } } : {}),
    });
  } catch (e) {
    // another process bootstrapped between our check and our create
    if ((e as { body?: { error?: { type?: string } } }).body?.error?.type === 'resource_already_exists_exception') return;
    throw e;
  }
}
