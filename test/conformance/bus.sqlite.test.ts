import { join } from 'node:path';
import { busConformance } from './bus.suite.ts';
import { SqliteLogBus } from '../../src/bus/sqlite-log.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { tempDir } from '../helpers/tmp.ts';

busConformance('embedded SQLite log', async () => {
  const t = tempDir();
  const file = join(t.dir, 'bus.db');
  const buses: SqliteLogBus[] = [new SqliteLogBus(openDatabase(file), { pollMs: 50 })];
  return {
    bus: buses[0]!,
    reopen: async () => {
      const b = new SqliteLogBus(openDatabase(file), { pollMs: 50 });
      buses.push(b);
      return b;
    },
    cleanup: async () => {
      for (const b of buses) await b.close();
      t.cleanup();
    },
  };
});
