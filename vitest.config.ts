import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Throw-away peers for the distributed engines (librdkafka's mock Kafka via kcat, a
    // redis-server on a free port). Missing tools skip those suites loudly, or fail when CI=true.
    globalSetup: ['test/peers/kafka.ts', 'test/peers/redis.ts'],
  },
});
