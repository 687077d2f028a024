// A consumer whose unit writes a row and then, on request, hangs inside the unit until killed:
// the parent test kills it with SIGKILL there and checks that neither the row nor the position survived.
import { SqliteLogBus } from '../../src/bus/sqlite-log.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { commitWith } from '../../src/bus/bus.ts';

const [file, mode] = process.argv.slice(2) as [string, 'hang' | 'finish'];
const db = openDatabase(file);
db.exec('CREATE TABLE IF NOT EXISTS handled (key TEXT PRIMARY KEY)');
const bus = new SqliteLogBus(db, { pollMs: 20 });
const insert = db.prepare('INSERT OR REPLACE INTO handled (key) VALUES (?)');
bus.consume<string>('t', 'g', async (batch, ctx) => {
  await commitWith(ctx, () => {
    for (const r of batch) insert.run(r.key);
    if (mode === 'hang') {
      process.stdout.write('IN_UNIT\n');
      for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  });
  process.stdout.write('DONE\n');
});
