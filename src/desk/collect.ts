import type { Alert } from '../core/types.ts';
import type { AlertQuery } from '../core/query.ts';
import type { Store } from '../store/store.ts';

/** Reads every alert matching a query, page by page, up to `cap` (ledgers and briefings count them all). */
export async function allAlerts(store: Store, q: Omit<AlertQuery, 'limit' | 'offset'>, cap = 10_000): Promise<Alert[]> {
  const out: Alert[] = [];
  for (let offset = 0; offset < cap; offset += 500) {
    const page = await store.searchAlerts({ ...q, limit: 500, offset } as AlertQuery);
    out.push(...page.items);
    if (page.items.length < 500 || out.length >= page.total) break;
  }
  return out;
}

/** Beijing time: the bureau's day starts at 00:00 +08:00 whatever the server's zone. */
export const BEIJING_OFFSET_MS = 8 * 3600_000;

/** The instant a Beijing calendar day (YYYY-MM-DD) starts. */
export function beijingDayStart(day: string): Date {
  return new Date(`${day}T00:00:00+08:00`);
}

export function beijingDay(d: Date): string {
  return new Date(d.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** 2026-11-29 08:05 in Beijing time. */
export function beijingTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  return new Date(t + BEIJING_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}
