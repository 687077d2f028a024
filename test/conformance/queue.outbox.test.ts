import { join } from 'node:path';
import { queueConformance } from './queue.suite.ts';
import { OutboxQueue } from '../../src/notify/outbox.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { tempDir } from '../helpers/tmp.ts';

queueConformance('embedded SQLite outbox', async () => {
  const t = tempDir();
  const queue = new OutboxQueue(openDatabase(join(t.dir, 'q.db')));
  return {
    queue,
    cleanup: async () => {
      await queue.close();
      t.cleanup();
    },
  };
});
