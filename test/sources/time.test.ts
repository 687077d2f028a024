import { describe, expect, it } from 'vitest';
import { formatProblem, parseChinaTime, parseChineseDate } from '../../src/sources/time.ts';
import { mulberry32 } from '../helpers/rng.ts';

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

  it('reads every zone-less wall-clock time as the same instant written with +08:00, and rejects the days a calendar lacks', () => {
    const r = mulberry32(2026);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    for (let i = 0; i < 5_000; i++) {
      const y = [1, 99, 100, 1900, 2000, 2024, 2026, 2100, 9999][Math.floor(r() * 9)]!;
      const [mo, d, h, mi, s] = [1 + Math.floor(r() * 12), 1 + Math.floor(r() * 31), Math.floor(r() * 24), Math.floor(r() * 60), Math.floor(r() * 60)];
      const frac = r() < 0.3 ? `.${Math.floor(r() * 1e6)}` : '';
      const written = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac}`;
      const ms = frac ? pad(Number(frac.slice(1, 4).padEnd(3, '0')), 3) : '000';
      const t = Date.parse(`${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}.${ms}+08:00`);
      const real = new Date(t + 8 * 3_600_000);
      const exists = real.getUTCDate() === d && real.getUTCMonth() + 1 === mo;
      expect(parseChinaTime(written), written).toBe(exists ? new Date(t).toISOString() : null);
    }
  });
});

describe('parseChineseDate (list pages), relative to now = 2026-11-29 13:00 China time', () => {
  const now = new Date('2026-11-29T05:00:00.000Z');

  it.each([
    ['2026年11月29日', '2026-11-28T16:00:00.000Z'],
    ['2026-11-29', '2026-11-28T16:00:00.000Z'],
    ['2026/11/29 14:05', '2026-11-29T06:05:00.000Z'],
    ['2026.11.3', '2026-11-02T16:00:00.000Z'],
    ['发布时间：2026-11-28 09:30:15　来源：本局', '2026-11-28T01:30:15.000Z'],
    ['[2026-11-27]', '2026-11-26T16:00:00.000Z'],
    ['2026年11月29日 08时15分', '2026-11-29T00:15:00.000Z'],
  ])('reads the absolute %j as China time', (s, iso) => {
    expect(parseChineseDate(s, now)).toBe(iso);
  });

  it.each([
    ['11-29 14:05', '2026-11-29T06:05:00.000Z'],
    ['11月28日', '2026-11-27T16:00:00.000Z'],
    ['(11-20)', '2026-11-19T16:00:00.000Z'],
  ])('gives %j without a year the current year', (s, iso) => {
    expect(parseChineseDate(s, now)).toBe(iso);
  });

  it('puts a month-day that would lie in the future into last year (a December item read in January)', () => {
    const january = new Date('2027-01-02T02:00:00.000Z');
    expect(parseChineseDate('12-31 23:50', january)).toBe('2026-12-31T15:50:00.000Z');
    expect(parseChineseDate('12-30', now)).toBe('2025-12-29T16:00:00.000Z');
  });

  it.each([
    ['昨天 14:05', '2026-11-28T06:05:00.000Z'],
    ['前天', '2026-11-26T16:00:00.000Z'],
    ['今天 08:00', '2026-11-29T00:00:00.000Z'],
    ['3小时前', '2026-11-29T02:00:00.000Z'],
    ['15分钟前', '2026-11-29T04:45:00.000Z'],
    ['2天前', '2026-11-27T05:00:00.000Z'],
    ['刚刚', '2026-11-29T05:00:00.000Z'],
  ])('reads the relative %j from now', (s, iso) => {
    expect(parseChineseDate(s, now)).toBe(iso);
  });

  it('counts 昨天 by the China calendar, not UTC (00:30 in Beijing is still the previous UTC day)', () => {
    const earlyMorning = new Date('2026-11-28T16:30:00.000Z'); // 2026-11-29 00:30 in China
    expect(parseChineseDate('昨天 23:00', earlyMorning)).toBe('2026-11-28T15:00:00.000Z');
  });

  it('falls back to parseChinaTime for RFC 822 and ISO with a zone', () => {
    expect(parseChineseDate('Sat, 29 Nov 2026 12:40:00 +0800', now)).toBe('2026-11-29T04:40:00.000Z');
  });

  it.each(['', '暂无', '2026-02-30', '13-45', '上午'])('rejects %j', (s) => {
    expect(parseChineseDate(s, now)).toBeNull();
  });

  it('with a dateFormat accepts only that format', () => {
    expect(parseChineseDate('日期：29/11/2026', now, 'DD/MM/YYYY')).toBe('2026-11-28T16:00:00.000Z');
    expect(parseChineseDate('11月29日 14:05', now, 'MM月DD日 HH:mm')).toBe('2026-11-29T06:05:00.000Z');
    expect(parseChineseDate('2026-11-29', now, 'DD/MM/YYYY')).toBeNull();
  });

  it('formatProblem explains a format without month or day', () => {
    expect(formatProblem('YYYY-MM')).toMatch(/at least month and day/);
    expect(formatProblem('YYYY-MM-DD HH:mm')).toBeNull();
  });
});
