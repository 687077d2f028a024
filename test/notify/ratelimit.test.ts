import { describe, it, expect } from 'vitest';
import { SlidingWindowLimiter, ROBOT_LIMIT } from '../../src/notify/ratelimit.ts';

const T = Date.parse('2026-11-27T04:00:00Z');

describe('SlidingWindowLimiter', () => {
  it('allows 20 messages per 60 s per endpoint, then says when the next is free', () => {
    const l = new SlidingWindowLimiter();
    expect(ROBOT_LIMIT).toEqual({ max: 20, windowMs: 60_000 });
    for (let i = 0; i < 20; i++) expect(l.take('yudu/dingtalk', T + i * 1000)).toBe(true);
    expect(l.take('yudu/dingtalk', T + 20_000)).toBe(false);
    expect(l.nextFree('yudu/dingtalk', T + 20_000)).toEqual(new Date(T + 60_000));
    expect(l.take('yudu/dingtalk', T + 59_999)).toBe(false);
    expect(l.take('yudu/dingtalk', T + 60_000)).toBe(true);
    // the second send (T+1s) leaves the window next
    expect(l.nextFree('yudu/dingtalk', T + 60_000)).toEqual(new Date(T + 61_000));
  });

  it('a refused take does not count against the window', () => {
    const l = new SlidingWindowLimiter({ max: 2, windowMs: 10_000 });
    l.take('e', T);
    l.take('e', T + 1);
    for (let i = 0; i < 5; i++) expect(l.take('e', T + 100 + i)).toBe(false);
    expect(l.used('e', T + 200)).toBe(2);
    expect(l.take('e', T + 10_000)).toBe(true);
  });

  it('endpoints are independent, and an idle endpoint is free now', () => {
    const l = new SlidingWindowLimiter({ max: 1, windowMs: 60_000 });
    expect(l.take('a', T)).toBe(true);
    expect(l.take('b', T)).toBe(true);
    expect(l.take('a', T + 1)).toBe(false);
    expect(l.nextFree('c', T)).toEqual(new Date(T));
  });
});
