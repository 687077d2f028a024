import { describe, it, expect, afterEach } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { isTransient } from '../../src/bus/kafka/transient.ts';
import { SentinelError } from '../../src/core/errors.ts';
import { eventually } from '../helpers/tmp.ts';
import { kafkaBrokers, testBus, uniquePrefix } from './kafka-helpers.ts';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('which handler failures hold the position instead of counting toward the DLQ', () => {
  it.each([
    ['a SentinelError marked retriable (Elasticsearch 429/5xx, lost connection)', new SentinelError('elasticsearch writing items: 429', { retriable: true }), true],
    ['a SentinelError marked not retriable (mapping error, 403)', new SentinelError('elasticsearch writing items: 400 mapper_parsing_exception'), false],
    ['SQLite busy', coded('SQLITE_BUSY', 'database is locked'), true],
    ['SQLite busy, extended code', coded('SQLITE_BUSY_SNAPSHOT'), true],
    ['SQLite locked', coded('SQLITE_LOCKED'), true],
    ['SQLite disk full', coded('SQLITE_FULL', 'database or disk is full'), true],
    ['a refused connection', coded('ECONNREFUSED'), true],
    ['a transient cause under a plain wrapper', new Error('upsert failed', { cause: coded('ECONNRESET') }), true],
    ['an explicit "not retriable" wins over a transient cause', new SentinelError('refused', { retriable: false, cause: coded('ECONNRESET') }), false],
    ['SQLite constraint violation', coded('SQLITE_CONSTRAINT_PRIMARYKEY'), false],
    ['a plain error (a bug, a bad record)', new Error('缺少区域代码'), false],
    ['a thrown string', '出错了', false],
  ])('%s → %s', (_what, err, transient) => {
    expect(isTransient(err)).toBe(transient);
  });
});

describe.skipIf(!kafkaBrokers)('Kafka consumer while the store is unavailable (mock cluster)', () => {
  let bus: KafkaBus | null = null;
  afterEach(async () => {
    await bus?.close();
    bus = null;
  });

  it('retries a record failing transiently far past the DLQ threshold, commits nothing meanwhile, and stores it once the store is back', async () => {
    bus = testBus(uniquePrefix(), { handlerRetry: { attempts: 3, initialMs: 10, maxMs: 50 } });
    let down = true;
    let calls = 0;
    const stored: string[] = [];
    const c = bus.consume<string>('items.scored', 'alerts', async (batch) => {
      calls++;
      if (down) throw new SentinelError('elasticsearch writing items: 503 cluster_block_exception', { retriable: true });
      stored.push(...batch.map((r) => r.value));
    });
    await bus.publish('items.scored', [{ key: 'item-1', value: '某小学食堂学生集体呕吐' }]);
    await eventually(() => calls >= 10, 15_000);
    expect(await bus.lag('items.scored', 'alerts')).toBe(1);
    expect(c.lastError()?.message).toMatch(/503 cluster_block_exception/);

    down = false;
    await eventually(() => stored.length === 1, 15_000);
    await c.drained();
    expect(stored).toEqual(['某小学食堂学生集体呕吐']);
    expect(c.lastError()).toBeNull();
    expect(await bus.lag('items.scored', 'alerts')).toBe(0);
    // nothing was dead-lettered
    expect(await bus.lag('dlq', 'inspect')).toBe(0);
    await c.stop();
  });

  it('a failure that is not transient still goes to the DLQ after the configured calls', async () => {
    bus = testBus(uniquePrefix(), { handlerRetry: { attempts: 3, initialMs: 10, maxMs: 50 } });
    let calls = 0;
    const c = bus.consume<string>('items.scored', 'alerts', async () => {
      calls++;
      throw new SentinelError('elasticsearch: 1 of 1 items not stored: 400 mapper_parsing_exception');
    });
    await bus.publish('items.scored', [{ key: 'item-2', value: '超长标题' }]);
    await eventually(async () => (await bus!.lag('items.scored', 'alerts')) === 0, 15_000);
    expect(calls).toBe(3);
    expect(await bus.lag('dlq', 'inspect')).toBe(1);
    await c.stop();
  });
});
