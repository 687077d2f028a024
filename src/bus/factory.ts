import { safeSpec } from '../core/redact.ts';
import type { Bus } from './bus.ts';
import { acquireDatabase } from '../store/sqlite-db.ts';
import { SqliteLogBus } from './sqlite-log.ts';

/**
 * Picks the bus engine from `SENTINEL_BUS` (or `--bus`): unset = the embedded SQLite log in
 * the data file; `kafka://host:9092[,host2:9092][?prefix=sentinel.]` = Kafka. Distributed clients load lazily so
 * embedded mode never loads them.
 */
export async function createBus(spec: string | undefined, dbPath: string): Promise<Bus> {
  if (!spec || spec === 'sqlite') return new SqliteLogBus(acquireDatabase(dbPath));
  if (spec.startsWith('kafka://')) {
    const { KafkaBus } = await import('./kafka.ts');
    return KafkaBus.fromSpec(spec);
  }
  throw new Error(`SENTINEL_BUS=${safeSpec(spec)}: unknown bus; expected unset (embedded) or kafka://host:9092[,host:9092]`);
}
