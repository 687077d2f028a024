/**
 * A pipeline process for the Kafka fault tests (test/faults/kafka-kill.test.ts): startPipeline
 * exactly as `sentinel run` calls it, with SENTINEL_BUS=kafka://…, SENTINEL_DATA and the roles in
 * SENTINEL_ROLES (comma-separated), stopped cleanly on SIGTERM.
 *
 * Test-only instrumentation, kept out of src/ on purpose:
 * - the Kafka client gets the test suites' timings (3 s session timeout, short fetch waits), so a
 *   member killed with SIGKILL is replaced in seconds; production keeps kafkajs' 30 s;
 * - every batch the alerts consumer finished is reported on stdout as `stored <n> <keys…>`, so
 *   the parent can time kills against real work and see redeliveries;
 * - CRASH_AFTER_STORE=N: the process SIGKILLs itself right after the N-th alerts batch's handler
 *   resolved — items and alerts are committed to the store — and before the bus runner resolves
 *   and commits the batch's offsets. That is the one window at-least-once delivery exists for.
 */
import { writeSync } from 'node:fs';
import pino from 'pino';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { TOPICS, type BatchHandler } from '../../src/bus/bus.ts';
import { startPipeline, type Role } from '../../src/pipeline/runner.ts';
import { DEFAULT_PIPELINE } from '../../src/cli/common.ts';

const say = (line: string) => writeSync(1, line + '\n');

const fromSpec = KafkaBus.fromSpec.bind(KafkaBus);
KafkaBus.fromSpec = (spec, opts = {}) =>
  fromSpec(spec, {
    handlerRetry: { initialMs: 20, maxMs: 500 },
    consumer: { maxWaitTimeInMs: 200, heartbeatInterval: 300, sessionTimeout: 3_000, rebalanceTimeout: 3_000 },
    ...opts,
  });

const crashAfter = Number(process.env.CRASH_AFTER_STORE ?? 0);
let storedBatches = 0;
const consume = KafkaBus.prototype.consume;
KafkaBus.prototype.consume = function (this: KafkaBus, topic: string, group: string, handler: BatchHandler<unknown>, opts?: Parameters<KafkaBus['consume']>[3]) {
  if (topic !== TOPICS.scored) return consume.call(this, topic, group, handler, opts);
  const observed: BatchHandler<unknown> = async (batch) => {
    await handler(batch);
    storedBatches++;
    say(`stored ${batch.length} ${batch.map((r) => r.key).join(' ')}`);
    if (storedBatches === crashAfter) {
      say(`crash after store of batch ${storedBatches}`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
  return consume.call(this, topic, group, observed, opts);
} as KafkaBus['consume'];

const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
const running = await startPipeline({
  pipelineFile: DEFAULT_PIPELINE,
  roles: (process.env.SENTINEL_ROLES ?? 'process,alerts').split(',') as Role[],
  dataDir: process.env.SENTINEL_DATA!,
  bus: process.env.SENTINEL_BUS,
  log,
});
say('ready');
process.on('SIGTERM', () => {
  void running.stop().then(
    () => process.exit(0),
    (err: Error) => {
      writeSync(2, `stop failed: ${err.message}\n`);
      process.exit(1);
    },
  );
});
// the Kafka connections keep the loop alive while they last; this keeps it alive between reconnects
setInterval(() => undefined, 60_000);
