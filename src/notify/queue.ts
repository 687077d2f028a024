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
  /**
   * Set when the delivery went out merged into a rate-limit digest (status 'delivered'): the
   * digest's own id, shared by every delivery it carried.
   */
  digestId?: string;
  /** Held back by a robot's rate limit, waiting to go out in a digest. */
  deferred?: boolean;
}

/** Per-channel counts for the channels page. */
export interface ChannelCounts {
  delivered: number;
  pending: number;
  dead: number;
}

/** Thrown by a handler for a failure that retrying cannot fix (a 4xx). */
export class PermanentDeliveryError extends Error {}

/**
 * Thrown by a handler when the channel cannot take the message before `until` (a robot's
 * 20-a-minute budget is spent). Not a failure: the attempt is not counted; the delivery waits
 * and, when the queue worker has a `digest` handler, goes out merged with the other deliveries
 * waiting for the same channel.
 */
export class DeferDelivery extends Error {
  constructor(
    message: string,
    readonly until: Date,
  ) {
    super(message);
  }
}

export type DeliveryHandler = (d: Delivery, attempt: number) => Promise<void>;

/**
 * Sends several deliveries of one channel as one message. Throws like a DeliveryHandler: a
 * PermanentDeliveryError or DeferDelivery applies to every delivery in the digest.
 */
export type DigestHandler = (channel: string, deliveries: Delivery[], digestId: string) => Promise<void>;

/** Called once a delivery is dead-lettered, with the last error; a throw means "call me again later". */
export type DeadHandler = (d: Delivery, error: string) => Promise<void>;

export interface WorkOptions {
  maxAttempts?: number;
  /** First backoff; doubles each attempt, with jitter. */
  backoffMs?: number;
  pollMs?: number;
  /** Merges deliveries deferred by a rate limit (DeferDelivery) into one message per channel. */
  digest?: DigestHandler;
  /** Runs after a delivery is dead-lettered (the fallback channels); retried until it succeeds. */
  onDead?: DeadHandler;
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
  /** Delivered / pending / dead per channel name (the channels page); optional for test doubles. */
  channelCounts?(): Promise<Record<string, ChannelCounts>>;
  close(): Promise<void>;
}
