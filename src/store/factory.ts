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
    if (!path) throw new Error(`SENTINEL_STORE=${spec}: sqlite: needs a file path, e.g. sqlite:data/store.db`);
    return new SqliteStore(acquireDatabase(resolve(path)), { tokenize });
  }
  if (/^https?:\/\//.test(spec)) {
    throw new Error(`SENTINEL_STORE=${spec}: the Elasticsearch store is not available in this version yet; unset SENTINEL_STORE to use the embedded store`);
  }
  throw new Error(`SENTINEL_STORE=${spec}: unknown store; expected unset, sqlite:PATH or http(s)://es-host:9200`);
}
