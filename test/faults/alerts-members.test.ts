import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import pino from 'pino';
import { AlertStage } from '../../src/alerts/stage.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { OutboxQueue } from '../../src/notify/outbox.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import type { Processor } from '../../src/pipeline/process.ts';
import type { RawItem } from '../../src/core/types.ts';
import { realProcessor } from '../alerts/processor.ts';
import { tempDir } from '../helpers/tmp.ts';
import { isIncident } from './helpers.ts';

/**
 * Two alerts-stage members of one Kafka consumer group, over one store, as the rebalance in
 * kafka-kill.test.ts leaves them: each member keeps its own in-memory merge window, rebuilt from
 * the store only when it starts. A report member A stored but had not committed when its
 * partition moved is delivered again to member B.
 *
 * B does not know the alert A raised after B started. Found by the second-member test in
 * kafka-kill.test.ts: B merged the redelivered report into its own alert of the same incident, and
 * the report sat in two live incident alerts. B now also looks up the alert the report's own text
 * raised (its id is the text's hash) and folds it with the alerts the report matched. Not yet
 * covered: a report A merged into an alert other than its own; finding that one needs the store
 * to say which alert lists a report.
 */

const seg = createSegmenter();
const log = pino({ level: 'silent' });
const now = new Date('2026-11-28T12:00:00Z');
const story =
  '11月27日中午，于都县贡江镇某中心小学食堂供应午餐后，陆续有32名学生出现呕吐、腹痛等症状，已被送往县人民医院救治，目前均无生命危险。县市场监管局已封存留样食品，对食堂进行停业整顿。';
const raw = (id: string, over: Partial<RawItem>): RawItem => ({
  id, sourceId: 'jx-news', kind: 'news', title: '', body: '', publishedAt: '2026-11-28T08:00:00.000Z',
  fetchedAt: '2026-11-28T08:05:00.000Z', fields: {}, ...over,
});

describe('two alerts members over one store, a report redelivered after a rebalance', () => {
  let process: Processor;
  beforeAll(async () => {
    process = await realProcessor();
  });

  it('the report stays in one live incident alert', async () => {
    const t = tempDir('sentinel-faults-members-');
    const db = openDatabase(join(t.dir, 'sentinel.db'));
    const queue = new OutboxQueue(db);
    try {
      const store = new SqliteStore(db, { tokenize: (x) => seg.cut(x), ownsDb: false });
      const member = () => new AlertStage({ store, queue, minLevel: '黄', routes: null, catchAll: [], log, now: () => now });
      const a = member();
      const b = member();
      await a.init();
      await b.init();

      const n1 = process(raw('n1', { title: '于都县一小学32名学生午餐后呕吐腹痛', body: story }));
      const n2 = process(raw('n2', { sourceId: 'repost-site', title: '【转】于都县一小学30余名学生午餐后呕吐腹痛', body: story.replace('32名', '30余名') }));
      await a.handle([n1]); // stored, not committed: A loses the partition
      await b.handle([n2]); // B's partition
      await b.handle([n1]); // the rebalance hands n1's partition to B: n1 comes again

      const incidents = (await store.searchAlerts({ limit: 50, offset: 0 })).items.filter(isIncident);
      const holding = incidents.filter((al) => al.itemIds.includes('n1')).map((al) => al.id);
      expect(holding, 'live incident alerts holding n1').toHaveLength(1);
    } finally {
      await queue.close();
      db.close();
      t.cleanup();
    }
  });
});
