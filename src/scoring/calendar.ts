import type { CalendarDate, CalendarPeriod, CalendarSpec } from '../config/rules.ts';
import { dateKey } from '../config/rules.ts';

/** The bureau works on Beijing time: a report at 23:30 UTC on 31 Aug is already 1 Sep there. */
const BEIJING_OFFSET_MS = 8 * 3600_000;

export function beijingDate(at: Date): CalendarDate | null {
  const t = at.getTime();
  if (!Number.isFinite(t)) return null;
  const d = new Date(t + BEIJING_OFFSET_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function inRange(d: CalendarDate, from: CalendarDate, to: CalendarDate): boolean {
  if (from.year !== undefined) return dateKey(from) <= dateKey(d) && dateKey(d) <= dateKey(to);
  const md = d.month * 100 + d.day;
  const f = from.month * 100 + from.day;
  const t = to.month * 100 + to.day;
  // A month-day range may wrap the new year (12-20 … 01-10).
  return f <= t ? f <= md && md <= t : md >= f || md <= t;
}

/** Periods of the calendar that contain `at` (Beijing date). */
export function activePeriods(calendar: CalendarSpec, at: Date): CalendarPeriod[] {
  const d = beijingDate(at);
  if (!d) return [];
  return calendar.periods.filter((p) => p.ranges.some((r) => inRange(d, r.from, r.to)));
}

export interface CalendarBoost {
  factor: number;
  /** Why: each period that offered a multiplier for this category. */
  applied: { period: string; multiplier: number; via: 'category' | 'all' | 'focus' }[];
}

/**
 * The boost for one category: the largest multiplier any active period offers (by category, by '*',
 * or by a focus term present in the text). Overlapping periods do not compound, so 中秋 inside
 * 开学季 does not multiply twice.
 */
export function calendarBoost(active: readonly CalendarPeriod[], category: string, focusPresent: ReadonlySet<string>): CalendarBoost {
  const applied: CalendarBoost['applied'] = [];
  for (const p of active) {
    const byCat = p.multipliers[category];
    if (byCat !== undefined) applied.push({ period: p.name, multiplier: byCat, via: 'category' });
    else if (p.multipliers['*'] !== undefined) applied.push({ period: p.name, multiplier: p.multipliers['*'], via: 'all' });
    if (p.focus && focusPresent.has(p.name)) applied.push({ period: p.name, multiplier: p.focus.multiplier, via: 'focus' });
  }
  const factor = applied.length ? Math.max(...applied.map((a) => a.multiplier)) : 1;
  return { factor, applied };
}
