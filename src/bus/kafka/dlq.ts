/**
 * Dead letters: records a handler could not take after every retry (or that were not ours to
 * read) are published to the `dlq` topic (under the bus prefix) with the error, then the
 * consumer moves on. Nothing is dropped silently: a DLQ record names where the original sat,
 * so it can be inspected and replayed (`bus.consume('dlq', …)` reads them back as
 * `DeadLetter` values).
 */
export const DLQ_TOPIC = 'dlq';

export interface DeadLetter {
  /** Logical topic (without the bus prefix), group and position of the original record. */
  topic: string;
  group: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The original value when it decoded; otherwise the raw text under `raw`. */
  value: unknown;
  raw?: string;
  error: { name: string; message: string; stack?: string };
  /** Handler calls that included this record (0 for a record that never decoded). */
  attempts: number;
  failedAt: string;
}

export function describeError(err: unknown): DeadLetter['error'] {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/** DLQ records are keyed like the original, so one item's failures stay in order. */
export function deadLetterKey(l: DeadLetter): string {
  return l.key ?? `${l.topic}/${l.partition}/${l.offset}`;
}
