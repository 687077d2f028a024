import { parentPort, workerData } from 'node:worker_threads';
import type { RawItem } from '../core/types.ts';
import { loadRuleEngine } from '../scoring/engine.ts';
import { settingsProcessor } from './process.ts';
import type { PoolRequest, PoolResponse, ProcessWorkerInit } from './process-pool.ts';

/**
 * One process-stage worker thread: it loads the rules, the segmenter and the region tables itself
 * and turns batches of raw items into scored items, so segmenting and scoring never block the
 * event loop that stores, alerts and delivers.
 */
const init = workerData as ProcessWorkerInit;
const port = parentPort!;
const post = (m: PoolResponse) => port.postMessage(m);

try {
  let engine = await loadRuleEngine(init.rulesDir);
  const process = settingsProcessor(() => engine, init);
  port.on('message', (m: PoolRequest) => {
    if (m.type === 'process') {
      try {
        post({ type: 'done', id: m.id, items: (m.items as RawItem[]).map(process) });
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
