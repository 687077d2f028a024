/**
 * When each recurring task (a source poll, escalation, source watch) runs next. `task` resolves
 * to the delay in ms before its next run, so a failing source can back off. Implementations:
 * the embedded `Scheduler` below (timers in this process) and `BullmqScheduler` (a schedule in
 * Redis shared by every process that registers the same task name; one run per period across
 * them). Pick one with `createScheduler` in scheduler-factory.ts.
 */
export interface SchedulerLike {
  schedule(name: string, firstDelayMs: number, task: () => Promise<number>): void;
  /** Stops scheduling and waits (bounded, for the distributed one) for runs in progress. */
  stop(): Promise<void>;
}

/**
 * The embedded scheduler: one timer chain per task. A task's own result decides its next
 * delay (a failing source backs off), and a slow task never overlaps itself.
 */
export class Scheduler implements SchedulerLike {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  /** `task` returns the delay in ms before its next run. */
  schedule(name: string, firstDelayMs: number, task: () => Promise<number>): void {
    const run = () => {
      if (this.stopped) return;
      const p = task()
        .catch(() => 60_000)
        .then((next) => {
          this.running.delete(name);
          if (!this.stopped) this.timers.set(name, setTimeout(run, next));
        });
      this.running.set(name, p);
    };
    this.timers.set(name, setTimeout(run, firstDelayMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.running.values());
  }
}

/** ±10 % so many sources with one interval do not poll in lockstep. */
export function withJitter(ms: number, rand = Math.random): number {
  return Math.round(ms * (0.9 + 0.2 * rand()));
}
