import { join } from 'node:path';
import { storeConformance, tokenize } from './store.suite.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { tempDir } from '../helpers/tmp.ts';

storeConformance('embedded SQLite + FTS5', async () => {
  const t = tempDir();
  const store = new SqliteStore(openDatabase(join(t.dir, 'store.db')), { tokenize });
  return {
    store,
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
});
