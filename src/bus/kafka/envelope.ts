import { z } from 'zod';

/**
 * What one Kafka record carries. The key is repeated inside the value so a record read by a
 * tool that drops keys (a DLQ replayer, kcat without -K) is still complete; `v` lets a later
 * version change the shape while old records stay readable.
 */
export interface Envelope<T = unknown> {
  v: 1;
  key: string;
  value: T;
  /** Publish time, epoch ms. */
  at: number;
}

const envelopeSchema = z.object({
  v: z.literal(1),
  key: z.string(),
  value: z.unknown(),
  at: z.number(),
});

export function encodeEnvelope<T>(key: string, value: T, at = Date.now()): string {
  const env: Envelope<T> = { v: 1, key, value, at };
  return JSON.stringify(env);
}

/** A record that is not one of our envelopes: it can never succeed, so it goes to the DLQ. */
export class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
}

export function decodeEnvelope<T>(raw: Buffer | null, where: string): Envelope<T> {
  if (!raw) throw new MalformedRecordError(`${where}: record has no value`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new MalformedRecordError(`${where}: value is not JSON (${(err as Error).message})`);
  }
  const r = envelopeSchema.safeParse(parsed);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new MalformedRecordError(`${where}: not a sentinel envelope: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data as Envelope<T>;
}
