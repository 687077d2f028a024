import { Scheduler, type SchedulerLike } from './scheduler.ts';

export interface CreateSchedulerOptions {
  /** Distributed only: runs in progress get this long in stop() before a forced close. Default 10 s. */
  stopTimeoutMs?: number;
  /** Distributed only: Redis errors and task failures (the schedule keeps going). */
  onError?: (err: Error, task: string) => void;
}

/**
 * Picks the scheduler from `SENTINEL_QUEUE` (or `--queue`), the same setting as the delivery
 * queue: unset = in-process timers; `redis://host:6379[?prefix=…]` = BullMQ job schedulers
 * shared by every process of the deployment, so N ingest processes poll each source once per
 * period between them. Async because BullMQ is loaded only here, never in embedded mode.
 */
export async function createScheduler(queueSpec: string | undefined, opts: CreateSchedulerOptions = {}): Promise<SchedulerLike> {
  if (!queueSpec || queueSpec === 'sqlite') return new Scheduler();
  if (queueSpec.startsWith('redis://') || queueSpec.startsWith('rediss://')) {
    const { BullmqScheduler } = await import('./bullmq-scheduler.ts');
    return BullmqScheduler.fromSpec(queueSpec, opts);
  }
  throw new Error(`SENTINEL_QUEUE=${queueSpec}: unknown scheduler; expected unset (embedded) or redis://host:6379`);
}
