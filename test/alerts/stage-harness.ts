import { afterEach, beforeAll, beforeEach } from 'vitest';
import { join } from 'node:path';
import pino from 'pino';
import { AlertStage } from '../../src/alerts/stage.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { OutboxQueue } from '../../src/notify/outbox.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import type { Processor } from '../../src/pipeline/process.ts';
import { realProcessor } from './processor.ts';
import { tempDir } from '../helpers/tmp.ts';

export interface StageHarness {
  /** The real process stage (rules/, segmenter, regions). */
  readonly process: Processor;
  /** A fresh SQLite store and outbox per test, in one database file. */
  readonly store: SqliteStore;
  readonly queue: OutboxQueue;
  /** A new alerts stage over that store, as a (re)started process builds it. */
  stage(): AlertStage;
}

/** Registers the hooks of a suite of alerts-stage tests over a real store; call inside `describe`. */
export function stageHarness(opts: { prefix: string; now: Date }): StageHarness {
  const seg = createSegmenter();
  const log = pino({ level: 'silent' });
  let process: Processor;
  let t: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let queue: OutboxQueue;
  beforeAll(async () => {
    process = await realProcessor();
  });
  beforeEach(() => {
    t = tempDir(opts.prefix);
    const db = openDatabase(join(t.dir, 's.db'));
    store = new SqliteStore(db, { tokenize: (x) => seg.cut(x), ownsDb: false });
    queue = new OutboxQueue(db);
  });
  afterEach(async () => {
    await queue.close();
    t.cleanup();
  });
  return {
    get process() {
      return process;
    },
    get store() {
      return store;
    },
    get queue() {
      return queue;
    },
    stage: () => new AlertStage({ store, queue, minLevel: '黄', routes: null, catchAll: [], log, now: () => opts.now }),
  };
}
