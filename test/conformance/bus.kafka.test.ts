import { describe } from 'vitest';
import { busConformance } from './bus.suite.ts';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaBrokers, testBus, uniquePrefix } from '../bus/kafka-helpers.ts';

// The same suite as the embedded log, against librdkafka's mock cluster (test/peers/kafka.ts).
// Each test gets its own prefix, so the suite's fixed topic and group names never collide.
describe.skipIf(!kafkaBrokers)('Kafka (mock cluster)', () => {
  busConformance('Kafka via kafkajs', async () => {
    const prefix = uniquePrefix();
    const buses: KafkaBus[] = [testBus(prefix)];
    return {
      bus: buses[0]!,
      reopen: async () => {
        const b = testBus(prefix);
        buses.push(b);
        return b;
      },
      cleanup: async () => {
        for (const b of buses) await b.close();
      },
    };
  });
});
