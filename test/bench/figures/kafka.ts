import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { RawItem, ScoredItem } from '../../../src/core/types.ts';
import { KafkaBus } from '../../../src/bus/kafka.ts';
import { TOPICS } from '../../../src/bus/bus.ts';
import { loadRuleEngine } from '../../../src/scoring/engine.ts';
import { createSegmenter } from '../../../src/text/segment.ts';
import { createRegionResolver } from '../../../src/text/regions.ts';
import { createBatchProcessor } from '../../../src/pipeline/process.ts';
import { startKafkaMock } from '../../peers/kafka.ts';
import { corpus } from '../corpus.ts';
import { type BenchContext, type Figures, RULES_DIR, now, round } from '../common.ts';

/**
 * Issue 5's figure: items per second through the Kafka-mode process stage (our KafkaBus:
 * consume items.raw, score, publish items.scored, commit) against raw kafkajs producing then
 * consuming the same records on the same broker — the cost of the process stage on Kafka as a
 * ratio of what the broker and client alone can carry. The broker is librdkafka's mock cluster
 * (Debian's kcat), so both sides see the same loopback broker.
 */
export async function kafkaFigure(ctx: BenchContext): Promise<Figures> {
  const n = ctx.quick ? 1_000 : 5_000;
  const items = corpus(n, { seed: ctx.seed });
  const peer = await startKafkaMock();
  const brokers = peer.brokers.split(',');
  try {
    // 1. raw kafkajs: produce the records, then consume them all in a group
    const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const topic = `bench.raw.${ctx.seed}`;
    let t0 = now();
    for (let i = 0; i < items.length; i += 200) {
      await producer.send({ topic, acks: -1, messages: items.slice(i, i + 200).map((it) => ({ key: it.id, value: JSON.stringify(it) })) });
    }
    const consumer = kafka.consumer({ groupId: `bench-raw-${ctx.seed}`, sessionTimeout: 6_000, rebalanceTimeout: 6_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) JSON.parse(m.value!.toString());
          seen += batch.messages.length;
          if (seen >= items.length) resolve();
        },
      });
    });
    const rawMs = now() - t0;
    await consumer.disconnect();
    await producer.disconnect();
    ctx.log(`kafka: raw kafkajs produce+consume ${items.length} in ${Math.round(rawMs)} ms`);

    // 2. the Kafka-mode process stage, as the runner wires it
    const engine = await loadRuleEngine(RULES_DIR);
    const segmenter = createSegmenter({ dictDir: join(RULES_DIR, 'dict'), extraWords: engine.terms });
    const processBatch = createBatchProcessor({ engine: () => engine, segmenter, regions: createRegionResolver({ province: '360000' }) });
    const bus = new KafkaBus({ brokers, prefix: `bench${ctx.seed}.`, logLevel: 'nothing', consumer: { sessionTimeout: 6_000, rebalanceTimeout: 6_000 } });
    t0 = now();
    await bus.publish<RawItem>(TOPICS.raw, items.map((it) => ({ key: it.id, value: it })));
    let processed = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const c = bus.consume<RawItem>(TOPICS.raw, 'process', async (batch) => {
      const scored = processBatch(batch.map((r) => r.value));
      await bus.publish<ScoredItem>(TOPICS.scored, scored.map((s) => ({ key: s.id, value: s })));
      processed += batch.length;
      if (processed >= items.length) done();
    });
    await finished;
    const stageMs = now() - t0;
    await c.stop();
    await bus.close();
    ctx.log(`kafka: process stage on Kafka ${items.length} in ${Math.round(stageMs)} ms`);
    const raw = (items.length / rawMs) * 1000;
    const stage = (items.length / stageMs) * 1000;
    return {
      kafka_items: items.length,
      kafka_raw_items_per_s: round(raw, 0),
      kafka_process_items_per_s: round(stage, 0),
      kafka_process_vs_raw: round(stage / raw, 3),
    };
  } finally {
    await peer.stop();
  }
}
