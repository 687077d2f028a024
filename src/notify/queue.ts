/**
 * The queue is the only door for outgoing deliveries (webhooks). Embedded: an outbox table in
 * the SQLite file; distributed: BullMQ. A delivery keeps its id across retries so receivers can
 * deduplicate by `webhook-id`.
 */
export interface Delivery {
  /** Stable: alert id + channel + event, so re-enqueueing the same event is a no-op. */
  id: string;
  alertId: string;
  channel: string;
  /** The JSON body to send; secrets never go here, they come from the channel config. */
  payload: unknown;
}

export interface DeliveryState extends Delivery {
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string;
  updatedAt: string;
}

/** Thrown by a handler for a failure that retrying cannot fix (a 4xx). */
export class PermanentDeliveryError extends Error {}

export type DeliveryHandler = (d: Delivery, attempt: number) => Promise<void>;

export interface WorkOptions {
  maxAttempts?: number;
  /** First backoff; doubles each attempt, with jitter. */
  backoffMs?: number;
  pollMs?: number;
}

export interface QueueWorker {
  stop(): Promise<void>;
  /** Resolves when nothing is due now (tests). */
  drained(): Promise<void>;
}

export interface Queue {
  readonly kind: string;
  enqueue(deliveries: Delivery[]): Promise<void>;
  work(handler: DeliveryHandler, opts?: WorkOptions): QueueWorker;
  deliveriesFor(alertId: string): Promise<DeliveryState[]>;
  close(): Promise<void>;
}
