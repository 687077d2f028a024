import { describe, it, expect } from 'vitest';
import { KafkaBus, parseKafkaSpec } from '../../src/bus/kafka.ts';
import { decodeEnvelope, encodeEnvelope, MalformedRecordError } from '../../src/bus/kafka/envelope.ts';
import { createBus } from '../../src/bus/factory.ts';

describe('SENTINEL_BUS=kafka://… parsing', () => {
  it('reads one or more brokers and defaults the prefix to "sentinel."', () => {
    expect(parseKafkaSpec('kafka://kafka:9092')).toEqual({ brokers: ['kafka:9092'], prefix: 'sentinel.' });
    expect(parseKafkaSpec('kafka://k1.prov.local:9092,k2.prov.local:9093')).toEqual({
      brokers: ['k1.prov.local:9092', 'k2.prov.local:9093'],
      prefix: 'sentinel.',
    });
  });

  it('takes a topic prefix from ?prefix=, including an empty one', () => {
    expect(parseKafkaSpec('kafka://kafka:9092?prefix=fs-zj.').prefix).toBe('fs-zj.');
    expect(parseKafkaSpec('kafka://kafka:9092?prefix=').prefix).toBe('');
  });

  it('names the variable and the broken part in its errors', () => {
    expect(() => parseKafkaSpec('kafka://')).toThrow(/SENTINEL_BUS=kafka:\/\/: no broker given/);
    expect(() => parseKafkaSpec('kafka://kafka')).toThrow(/broker 'kafka': expected host:port/);
    expect(() => parseKafkaSpec('kafka://kafka:99999')).toThrow(/broker 'kafka:99999': port out of range/);
    expect(() => parseKafkaSpec('kafka://kafka:9092?group=x')).toThrow(/unknown option 'group'/);
    expect(() => parseKafkaSpec('kafka://kafka:9092?prefix=食安')).toThrow(/prefix '食安': only letters/);
  });

  it('the factory builds a Kafka bus without connecting, and rejects a bad spec before any I/O', async () => {
    const bus = await createBus('kafka://127.0.0.1:1?prefix=p.', '/nonexistent/never-opened.db');
    expect(bus).toBeInstanceOf(KafkaBus);
    expect(bus.kind).toBe('kafka');
    expect((bus as KafkaBus).prefix).toBe('p.');
    await bus.close();
    await expect(createBus('kafka://no-port', '/nonexistent/x.db')).rejects.toThrow(/SENTINEL_BUS=kafka:\/\/no-port/);
  });
});

describe('record envelope', () => {
  it('wraps the value as {v: 1, key, value, at} and reads it back', () => {
    const raw = encodeEnvelope('item-8f3a', { title: '某小学食堂学生集体呕吐' }, 1_767_000_000_000);
    expect(JSON.parse(raw)).toEqual({ v: 1, key: 'item-8f3a', value: { title: '某小学食堂学生集体呕吐' }, at: 1_767_000_000_000 });
    expect(decodeEnvelope(Buffer.from(raw), 'items.raw[0]@0').value).toEqual({ title: '某小学食堂学生集体呕吐' });
  });

  it('rejects what another producer wrote, saying where and why', () => {
    expect(() => decodeEnvelope(Buffer.from('某局通报'), 'items.raw[2]@17')).toThrow(MalformedRecordError);
    expect(() => decodeEnvelope(Buffer.from('某局通报'), 'items.raw[2]@17')).toThrow(/items\.raw\[2\]@17: value is not JSON/);
    expect(() => decodeEnvelope(Buffer.from('{"v":2,"key":"a","value":1,"at":1}'), 'x[0]@1')).toThrow(/x\[0\]@1: not a sentinel envelope: v:/);
    expect(() => decodeEnvelope(null, 'x[0]@1')).toThrow(/record has no value/);
  });
});
