import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { KafkaBus, type KafkaBusOptions } from '../../src/bus/kafka.ts';

/** The mock cluster's address from the global setup, or null (suites skip). */
export const kafkaBrokers = inject('kafkaBrokers');

/**
 * A fresh namespace per test: topics and groups live under a unique prefix, so tests sharing
 * the one mock cluster never see each other's records or offsets.
 */
export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}.`;
}

/**
 * Quick retries and fetches for tests; production defaults are slower on purpose. The short
 * session timeout matters on the mock cluster: after a member leaves, it holds the group in
 * "Joining" for the session timeout before a new member is let in.
 */
export function testBus(prefix: string, over: Partial<KafkaBusOptions> = {}, brokers = kafkaBrokers): KafkaBus {
  if (!brokers) throw new Error('no Kafka peer');
  return new KafkaBus({
    brokers: brokers.split(','),
    prefix,
    logLevel: 'nothing',
    handlerRetry: { initialMs: 20, maxMs: 200 },
    consumer: { maxWaitTimeInMs: 200, heartbeatInterval: 300, sessionTimeout: 3_000, rebalanceTimeout: 3_000 },
    ...over,
  });
}
