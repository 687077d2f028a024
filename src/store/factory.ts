import { safeSpec } from '../core/redact.ts';
import { resolve } from 'node:path';
import type { Store } from './store.ts';
import { acquireDatabase } from './sqlite-db.ts';
import { SqliteStore } from './sqlite.ts';

/**
 * Picks the store engine from `SENTINEL_STORE` (or `--store`): unset = the data file;
 * `sqlite:PATH` = another SQLite file; `http(s)://host:9200` = Elasticsearch.
 */
export async function createStore(
  spec: string | undefined,
  dbPath: string,
  tokenize: (text: string) => string[],
): Promise<Store> {
  if (!spec) return new SqliteStore(acquireDatabase(dbPath), { tokenize });
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new Error(`SENTINEL_STORE=${safeSpec(spec)}: sqlite: needs a file path, e.g. sqlite:data/store.db`);
    return new SqliteStore(acquireDatabase(resolve(path)), { tokenize });
  }
  if (/^https?:\/\//.test(spec)) {
    // loaded only here, so the embedded mode never pulls in the Elasticsearch client
    const { ElasticsearchStore } = await import('./elasticsearch.ts');
    // indices are set up on first use (or the first /healthz ping), not here
    return ElasticsearchStore.fromSpec(spec, tokenize);
  }
  throw new Error(`SENTINEL_STORE=${safeSpec(spec)}: unknown store; expected unset, sqlite:PATH or http(s)://es-host:9200`);
}
