/** The backoff type name our jobs carry; the worker's strategy answers for it. */
export const BACKOFF_TYPE = 'sentinel-exponential';

/**
 * Delay after failed attempt `attempt` (1-based): `backoffMs · 2^(attempt−1)` plus up to 20 %
 * jitter, so receivers that came back do not get every retry in the same second; at most 1 h.
 * The same curve as the embedded outbox.
 */
export function backoffDelay(attempt: number, backoffMs: number, random: () => number = Math.random): number {
  const base = backoffMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(Math.min(base + base * 0.2 * random(), 3_600_000));
}
