import { parentPort, workerData } from 'node:worker_threads';
import type { RawItem } from '../core/types.ts';
import { loadRuleEngine } from '../scoring/engine.ts';
import { settingsBatchProcessor } from './process.ts';
import { encodeBatch, type PoolRequest, type PoolResponse, type ProcessWorkerInit } from './process-pool.ts';

/**
 * One process-stage worker thread: it loads the rules, the segmenter and the region tables itself
 * and turns batches of raw items into scored items, so segmenting and scoring never block the
 * event loop that stores, alerts and delivers.
 */
const init = workerData as ProcessWorkerInit;
const WARM_UP: RawItem = {
  id: 'warm-up',
  sourceId: 'warm-up',
  kind: 'complaint',
  title: '南昌市某小学食堂午餐后学生呕吐腹泻',
  body: '家长反映孩子在学校食堂吃了午饭后出现呕吐、腹泻，怀疑食物变质。',
  publishedAt: '2026-01-01T00:00:00.000Z',
  fetchedAt: '2026-01-01T00:00:00.000Z',
  fields: {},
};
const port = parentPort!;
const post = (m: PoolResponse) => port.postMessage(m);

try {
  let engine = await loadRuleEngine(init.rulesDir);
  const process = settingsBatchProcessor(() => engine, init);
  // The processor loads some tables on first use (jieba's IDF table for SimHash took 0.1–0.25 s):
  // one item scored now loads them before the pool says it is ready, instead of inside the first
  // batch, which every later stage waits for.
  process([WARM_UP]);
  port.on('message', (m: PoolRequest) => {
    if (m.type === 'process' || m.type === 'encode') {
      try {
        const scored = process(m.items);
        if (m.type === 'process') post({ type: 'done', id: m.id, items: scored });
        else {
          const batch = encodeBatch(scored);
          port.postMessage({ type: 'encoded', id: m.id, batch } satisfies PoolResponse, [batch.bytes]);
        }
      } catch (err) {
        post({ type: 'failed', id: m.id, message: (err as Error).message });
      }
      return;
    }
    // A bad edit keeps the last good rules, as in the main thread.
    loadRuleEngine(init.rulesDir).then(
      (next) => {
        engine = next;
        post({ type: 'done', id: m.id, items: [] });
      },
      (err: Error) => post({ type: 'failed', id: m.id, message: err.message }),
    );
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'fatal', message: (err as Error).message });
}
