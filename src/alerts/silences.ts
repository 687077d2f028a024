import { z } from 'zod';
import type { Alert } from '../core/types.ts';

/*
 * Silences: an officer mutes a rule (or a category) for a region for a period, with a reason.
 * Muted alerts are still stored and shown on the desk; only pushing them is skipped. A silence
 * expires by itself at `until`; nothing has to remove it. Who created it and why is part of the
 * record so the desk can show and audit it.
 */

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

export const Silence = z
  .strictObject({
    id: z.string().min(1),
    /** A risk rule id (school-food-safety). Alerts do not carry rule ids, so the caller passes the rules behind an alert. */
    rule: z.string().min(1).optional(),
    category: z.string().min(1).optional(),
    /** 6-digit GB/T 2260 code: the silence covers this region and everything inside it. */
    region: z.string().regex(/^\d{6}$/, 'must be a 6-digit GB/T 2260 code'),
    until: isoDate,
    reason: z.string().trim().min(2, '请填写静默原因'),
    createdBy: z.string().min(1),
    createdAt: isoDate,
  })
  .refine((s) => Date.parse(s.until) > Date.parse(s.createdAt), { message: 'until must be after createdAt', path: ['until'] })
  // A silence names what it mutes: a bare region would mute every risk in a county.
  .refine((s) => s.rule !== undefined || s.category !== undefined, { message: 'a silence needs a rule or a category', path: ['rule'] });
export type Silence = z.infer<typeof Silence>;

/** Does code lie within region (equal counts)? GB/T 2260 nests by trailing zeros. */
export function regionWithin(code: string, region: string): boolean {
  if (!/^\d{6}$/.test(code) || !/^\d{6}$/.test(region)) return false;
  if (region.endsWith('0000')) return code.slice(0, 2) === region.slice(0, 2);
  if (region.endsWith('00')) return code.slice(0, 4) === region.slice(0, 4);
  return code === region;
}

export interface SilenceSubject {
  alert: Pick<Alert, 'category' | 'region' | 'regions'>;
  /** Rule ids behind the alert (from its items' explanations); needed only for rule silences. */
  rules?: readonly string[];
}

/**
 * The silence that mutes this alert at `now`, or null. A silence applies when it has not expired,
 * its rule (if set) is among the alert's rules, its category (if set) equals the alert's, and the
 * alert's region lies within the silence's region. An alert with no region is never silenced: it
 * goes to the provincial desk, and muting the unknown would hide what nobody else sees.
 */
export function silencedBy(
  alert: Pick<Alert, 'category' | 'region' | 'regions'>,
  silences: readonly Silence[],
  now: Date | number,
  rules: readonly string[] = [],
): Silence | null {
  const t = +now;
  const region = /^\d{6}$/.test(alert.region) ? alert.region : alert.regions.find((r) => /^\d{6}$/.test(r));
  if (!region) return null;
  for (const s of silences) {
    if (Date.parse(s.until) <= t || Date.parse(s.createdAt) > t) continue;
    if (s.rule && !rules.includes(s.rule)) continue;
    if (s.category && s.category !== alert.category) continue;
    if (!regionWithin(region, s.region)) continue;
    return s;
  }
  return null;
}

export function isSilenced(
  alert: Pick<Alert, 'category' | 'region' | 'regions'>,
  silences: readonly Silence[],
  now: Date | number,
  rules: readonly string[] = [],
): boolean {
  return silencedBy(alert, silences, now, rules) !== null;
}

/** Validates a silence from the desk; throws a zod error naming the field. */
export function parseSilence(input: unknown): Silence {
  return Silence.parse(input);
}
