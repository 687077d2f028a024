/*
 * Per-endpoint sliding-window rate limit. The DingTalk, WeCom and Feishu robots each accept 20
 * messages a minute per robot and drop (or ban for minutes) beyond that, so the sender asks
 * before each message; when `take` says no, the waiting alerts are merged into one digest sent at
 * `nextFree`. The clock is passed in, so the limiter is pure and testable; it keeps only the send
 * times inside the window.
 */

export const ROBOT_LIMIT = { max: 20, windowMs: 60_000 } as const;

export interface RateLimitOptions {
  max?: number;
  windowMs?: number;
}

export class SlidingWindowLimiter {
  readonly max: number;
  readonly windowMs: number;
  private readonly sent = new Map<string, number[]>();

  constructor(opts: RateLimitOptions = {}) {
    this.max = opts.max ?? ROBOT_LIMIT.max;
    this.windowMs = opts.windowMs ?? ROBOT_LIMIT.windowMs;
    if (!(this.max >= 1) || !(this.windowMs > 0)) throw new Error('SlidingWindowLimiter: max ≥ 1 and windowMs > 0 required');
  }

  private recent(endpoint: string, now: number): number[] {
    const list = (this.sent.get(endpoint) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.sent.set(endpoint, list);
    else this.sent.delete(endpoint);
    return list;
  }

  /** Records a send and returns true when the endpoint has room at `now`; false (and records nothing) otherwise. */
  take(endpoint: string, now: Date | number): boolean {
    const t = +now;
    const list = this.recent(endpoint, t);
    if (list.length >= this.max) return false;
    list.push(t);
    // A caller's clock may step back a little (two workers); keep the times ordered for nextFree.
    list.sort((a, b) => a - b);
    this.sent.set(endpoint, list);
    return true;
  }

  /** The earliest time at or after `now` when `take` would succeed. */
  nextFree(endpoint: string, now: Date | number): Date {
    const t = +now;
    const list = this.recent(endpoint, t);
    if (list.length < this.max) return new Date(t);
    // The oldest send inside the window leaves it at (oldest + window); times are kept in order.
    return new Date(list[list.length - this.max]! + this.windowMs);
  }

  /** Sends still counted against the endpoint at `now`. */
  used(endpoint: string, now: Date | number): number {
    return this.recent(endpoint, +now).length;
  }
}
