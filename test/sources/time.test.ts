import { describe, expect, it } from 'vitest';
import { parseChinaTime } from '../../src/sources/time.ts';

describe('parseChinaTime', () => {
  it.each([
    ['2026-11-29 08:15:00', '2026-11-29T00:15:00.000Z'],
    ['2026/11/29 10:45', '2026-11-29T02:45:00.000Z'],
    ['2026-11-29T08:15:00', '2026-11-29T00:15:00.000Z'],
    ['2026年11月29日 08:15', '2026-11-29T00:15:00.000Z'],
    ['2026-11-29', '2026-11-28T16:00:00.000Z'],
    ['2026-01-01 00:00:00', '2025-12-31T16:00:00.000Z'],
  ])('reads the zone-less %j as China time', (s, iso) => {
    expect(parseChinaTime(s)).toBe(iso);
  });

  it.each([
    ['2026-11-29T12:00:00+08:00', '2026-11-29T04:00:00.000Z'],
    ['2026-11-28T16:20:00Z', '2026-11-28T16:20:00.000Z'],
    ['Sat, 29 Nov 2026 12:40:00 +0800', '2026-11-29T04:40:00.000Z'],
    ['Sat, 29 Nov 2026 12:40:00 GMT', '2026-11-29T12:40:00.000Z'],
  ])('respects the zone in %j', (s, iso) => {
    expect(parseChinaTime(s)).toBe(iso);
  });

  it('reads "CST" in a Chinese feed as China Standard Time, not US Central', () => {
    expect(parseChinaTime('Fri, 28 Nov 2026 21:00:00 CST')).toBe('2026-11-28T13:00:00.000Z');
  });

  it.each(['', '昨天上午', '2026-02-30 10:00:00', '2026-13-01', '2026-11-29 25:00:00', 'not a date'])('rejects %j', (s) => {
    expect(parseChinaTime(s)).toBeNull();
  });
});
