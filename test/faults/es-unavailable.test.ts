import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pino from 'pino';
import { TOPICS } from '../../src/bus/bus.ts';
import { startPipeline, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { DEFAULT_PIPELINE } from '../../src/cli/common.ts';
import type { RawItem } from '../../src/core/types.ts';
import { eventually, tempDir } from '../helpers/tmp.ts';
import { kafkaBrokers, uniquePrefix } from '../bus/kafka-helpers.ts';
import { History, expectExactlyOnce, hotlineRows, readHotline, report, undisturbed, writeCsv, type HotlineRow } from './helpers.ts';
import { startFakeEs, type BulkFault, type FakeEs } from './fake-es.ts';

/**
 * The store unavailable, Elasticsearch edition: the cluster answers every bulk write with 429
 * (a full write queue per item, then the circuit breaker for the whole request), then 503 (a
 * primary shard down per item, then no master) and 500, and then recovers. Meanwhile the
 * alerts consumer must hold its position — nothing of the failing batch committed, the same
 * records offered again — the failure must show on /healthz, and once the cluster is back
 * every accepted item is stored exactly once. Run on both buses: the embedded log and Kafka.
 */

const SOURCE = 'hotline-12315';

/**
 * Each fault, in the order the cluster goes through them; how many bulk requests it must have
 * refused before the next one starts (a refused per-item 429 is re-sent 3 times by the bulk
 * helper, a 503 by the client's transport, so 4 requests are one failed handler call); and what
 * /healthz says while it lasts. Six failed handler calls in all: more than the Kafka runner's
 * five calls before the dead-letter topic, so a runner that parks unavailability there fails.
 */
const FAULTS: { kind: BulkFault; requests: number; shows: RegExp }[] = [
  { kind: 'item-429', requests: 4, shows: /consumer failing: elasticsearch: \d+ of \d+ items not stored .*→ 429 \(retries exhausted\)/ },
  { kind: 'request-429', requests: 1, shows: /consumer failing: elasticsearch writing items: 429 circuit_breaking_exception/ },
  { kind: 'item-503', requests: 1, shows: /consumer failing: elasticsearch: \d+ of \d+ items not stored .*→ 503 unavailable_shards_exception/ },
  { kind: 'request-503', requests: 4, shows: /consumer failing: elasticsearch writing items: 503 cluster_block_exception/ },
  { kind: 'request-500', requests: 2, shows: /consumer failing: elasticsearch writing items: 500 null_pointer_exception/ },
];

let running: RunningPipeline | null = null;
let es: FakeEs | null = null;
afterEach(async () => {
  await running?.stop();
  await es?.close();
  running = es = null;
});

async function batchOf(dir: string, n: number, count: number): Promise<{ rows: HotlineRow[]; items: RawItem[] }> {
  const rows = hotlineRows(n, count, 5150 + n);
  const file = join(dir, `batch-${n}.csv`);
  writeCsv(file, rows);
  return { rows, items: await readHotline(file, SOURCE) };
}

async function health(url: string): Promise<{ status: number; engines: Record<string, string> }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, engines: ((await res.json()) as { engines: Record<string, string> }).engines };
}

const buses = [
  { name: 'embedded log', kafka: false },
  { name: 'Kafka', kafka: true },
];

describe.each(buses)('Elasticsearch refusing bulk writes (429, 503, 500) under the $name bus', ({ name, kafka }) => {
  it.skipIf(kafka && !kafkaBrokers)('the alerts consumer holds its position and retries, /healthz shows why, and after recovery nothing is lost or doubled', async () => {
    const t = tempDir('sentinel-faults-es-');
    try {
      es = await startFakeEs();
      const logged: { msg: string; err?: string }[] = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg: string; err?: string }) });
      running = await startPipeline({
        pipelineFile: DEFAULT_PIPELINE,
        roles: ['process', 'alerts', 'desk'],
        dataDir: t.dir,
        port: 0,
        demoAccount: false,
        store: es.url,
        bus: kafka ? `kafka://${kafkaBrokers}?prefix=${uniquePrefix()}` : undefined,
        log,
      });
      const { bus } = running;
      const desk = running.deskUrl!;
      const history = new History();

      // before the fault: a batch goes through
      const a = await batchOf(t.dir, 1, 120);
      await running.ingest(a.items);
      history.accept(SOURCE, a.rows);
      await running.drained();
      expect(es.contents().items).toHaveLength(120);

      // the cluster starts refusing writes; two more batches are accepted and scored meanwhile
      es.failBulk(FAULTS[0]!.kind);
      const b = await batchOf(t.dir, 2, 150);
      await running.ingest(b.items);
      history.accept(SOURCE, b.rows);
      const c = await batchOf(t.dir, 3, 80);
      await running.ingest(c.items);
      history.accept(SOURCE, c.rows);
      await eventually(async () => (await bus.lag(TOPICS.raw, 'process')) === 0, 30_000);
      const waiting = [...b.items, ...c.items];

      /** ids of waiting records each phase offered to the cluster */
      const offeredIn: Set<string>[] = [];
      // counted from before batch 2 arrived: the first phase's first try may already be over
      let before = new Map(waiting.map((i) => [i.id, 0]));
      for (const f of FAULTS) {
        es.failBulk(f.kind);
        // the phase lasts until the consumer has tried again under it and /healthz says so
        await eventually(async () => {
          const h = await health(desk);
          // while writes fail: nothing waiting is committed, nothing of it stored
          expect(await bus.lag(TOPICS.scored, 'alerts')).toBe(waiting.length);
          const stored = new Set(es!.contents().items.map((i) => i.id));
          expect(waiting.filter((i) => stored.has(i.id))).toEqual([]);
          return es!.answered(f.kind) >= f.requests && h.status === 503 && f.shows.test(h.engines.bus ?? '');
        }, 90_000);
        offeredIn.push(new Set(waiting.filter((i) => es!.offered(i.id) > before.get(i.id)!).map((i) => i.id)));
        before = new Map(waiting.map((i) => [i.id, es!.offered(i.id)]));
      }
      // and the log says it too (a process without the desk role has no /healthz)
      const warned = logged.filter((l) => l.msg.startsWith('storing a batch failed')).map((l) => l.err ?? '');
      for (const status of ['429', '503', '500']) expect(warned.some((e) => e.includes(` ${status} `) || e.includes(`→ ${status}`)), `a logged ${status}`).toBe(true);
      // the reads kept working, so the store itself reports ok: the failing part is the consumer
      expect((await health(desk)).engines.store).toBe('ok');
      // the same records were offered again under every fault: retried in place, not skipped
      const throughout = [...offeredIn[0]!].filter((id) => offeredIn.every((s) => s.has(id)));
      expect(throughout.length).toBeGreaterThan(0);

      es.heal();
      await running.drained();
      const after = await health(desk);
      expect(after).toEqual({ status: 200, engines: { store: 'ok', bus: 'ok' } });
      expect(await bus.lag(TOPICS.scored, 'alerts')).toBe(0);
      if (kafka) {
        // nothing was parked in the dead-letter topic: a full or broken cluster is not a poison record
        expect(await bus.lag('dlq', 'fault-inspector')).toBe(0);
      }
      await running.stop();
      running = null;

      const v = expectExactlyOnce(history, es.contents(), `ES unavailable, ${name} bus`, await undisturbed([a.items, b.items, c.items]));
      report(
        `Elasticsearch bulk 429→503→500 then recovery (${name} bus)`,
        1,
        v,
        `ok (${FAULTS.map((f) => `${f.kind}×${es!.answered(f.kind)}`).join(', ')} bulk answers; position held; /healthz 503 with the cause)`,
      );
    } finally {
      await running?.stop();
      running = null;
      t.cleanup();
    }
  }, 240_000);
});
