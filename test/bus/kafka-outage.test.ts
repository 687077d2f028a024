import { describe, it, expect, afterEach } from 'vitest';
import { KafkaConsumerGaveUpError, type KafkaBus } from '../../src/bus/kafka.ts';
import { eventually } from '../helpers/tmp.ts';
import { startKafkaMock } from '../peers/kafka.ts';
import type { Peer } from '../peers/spawn.ts';
import { kafkaBrokers, testBus, uniquePrefix } from './kafka-helpers.ts';

// Each test runs its own mock cluster, since it stops or kills it.
describe.skipIf(!kafkaBrokers)('Kafka bus when the brokers fail (own mock cluster)', () => {
  let peer: (Peer & { brokers: string }) | null = null;
  let bus: KafkaBus | null = null;
  afterEach(async () => {
    await bus?.close();
    await peer?.stop();
    bus = peer = null;
  });

  const fragile = (brokers: string) =>
    testBus(
      uniquePrefix(),
      {
        retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 300 },
        connectionTimeout: 500,
        requestTimeout: 1_000,
        maxRestarts: 2,
        restartBackoffMs: 100,
      },
      brokers,
    );

  it('gives up after its bounded restarts and surfaces the error instead of idling', async () => {
    peer = await startKafkaMock();
    bus = fragile(peer.brokers);
    const seen: number[] = [];
    const c = bus.consume<number>('items.raw', 'process', async (batch) => void seen.push(...batch.map((r) => r.value)));
    await bus.publish('items.raw', [{ key: 'a', value: 1 }]);
    await eventually(() => seen.length === 1, 15_000);
    expect(c.lastError()).toBeNull();

    peer.signal('SIGKILL');
    await peer.exited;
    const err = await eventually(() => c.lastError() instanceof KafkaConsumerGaveUpError && c.lastError(), 45_000);
    expect(err.message).toMatch(/kafka consumer process on items\.raw stopped after 2 restarts/);
    await expect(c.drained()).rejects.toBeInstanceOf(KafkaConsumerGaveUpError);
    await expect(bus.publish('items.raw', [{ key: 'b', value: 2 }])).rejects.toThrow();
    await c.stop();
  }, 60_000);

  it('restarts after a broker stall and catches up, clearing the error', async () => {
    peer = await startKafkaMock();
    bus = fragile(peer.brokers);
    const seen: number[] = [];
    const c = bus.consume<number>('items.raw', 'process', async (batch) => void seen.push(...batch.map((r) => r.value)));
    await bus.publish('items.raw', [{ key: 'a', value: 1 }]);
    await eventually(() => seen.length === 1, 15_000);

    peer.signal('SIGSTOP');
    await eventually(() => c.lastError() !== null, 30_000);
    expect(c.lastError()).not.toBeInstanceOf(KafkaConsumerGaveUpError);
    peer.signal('SIGCONT');

    await bus.publish('items.raw', [{ key: 'b', value: 2 }]);
    await eventually(() => seen.includes(2), 30_000);
    await c.drained();
    expect(c.lastError()).toBeNull();
    await c.stop();
  }, 60_000);
});
