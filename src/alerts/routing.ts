import type { Alert } from '../core/types.ts';
import { atLeast } from '../core/types.ts';
import type { ChannelConfig, Office, Routes } from '../config/routes.ts';

/*
 * Who is told about an alert. GB/T 2260 codes nest by digits: county 360731 → city 360700 →
 * province 360000. The county concerned always hears; its city for 橙 and above; the provincial
 * desk for 红. When a tier has no office configured (a county without a robot yet) the alert
 * goes to the next office up instead, so no alert is ever told to nobody; an alert with no region,
 * or one outside every configured province, goes to the provincial desk.
 */

export type Tier = 'county' | 'city' | 'province';
export const TIERS: readonly Tier[] = ['county', 'city', 'province'];
export const TIER_NAMES: Record<Tier, string> = { county: '县局', city: '市局', province: '省局' };

export interface Recipient {
  office: Office;
  tier: Tier;
  /** Enabled primary channels (disabled ones are left out: their variables are unset). */
  channels: ChannelConfig[];
}

/** The county, city and province codes above (and including) a 6-digit code; null parts are absent. */
export function regionChain(code: string): Record<Tier, string | null> {
  if (!/^\d{6}$/.test(code)) return { county: null, city: null, province: null };
  const province = code.slice(0, 2) + '0000';
  if (code.endsWith('0000')) return { county: null, city: null, province };
  const city = code.slice(0, 4) + '00';
  if (code.endsWith('00')) return { county: null, city, province };
  return { county: code, city, province };
}

/** The province office: the one whose region is a province code (the first, when several). */
function provincialDesk(routes: Routes, province: string | null): Office | undefined {
  const provinces = routes.offices.filter((o) => o.region.endsWith('0000'));
  return provinces.find((o) => o.region === province) ?? provinces[0];
}

/** The office of the tier `want` for this alert's region, walking up when that tier has none. */
export function officeFor(routes: Routes, region: string, want: Tier): { office: Office; tier: Tier } | undefined {
  const chain = regionChain(region);
  const byRegion = new Map(routes.offices.map((o) => [o.region, o]));
  for (const t of TIERS.slice(TIERS.indexOf(want))) {
    const code = chain[t];
    const office = code ? byRegion.get(code) : undefined;
    if (office) return { office, tier: t };
  }
  const desk = provincialDesk(routes, chain.province);
  return desk ? { office: desk, tier: 'province' } : undefined;
}

/**
 * The offices to notify for an alert, most local first, each office once. `alert.region` is the
 * most specific region; the first six-digit code in `regions` stands in when it is empty.
 */
export function resolveRecipients(alert: Pick<Alert, 'level' | 'region' | 'regions'>, routes: Routes): Recipient[] {
  const region = /^\d{6}$/.test(alert.region) ? alert.region : alert.regions.find((r) => /^\d{6}$/.test(r)) ?? '';
  const wanted: Tier[] = ['county'];
  if (atLeast(alert.level, '橙')) wanted.push('city');
  if (atLeast(alert.level, '红')) wanted.push('province');
  const out: Recipient[] = [];
  const seen = new Set<string>();
  for (const want of wanted) {
    const hit = officeFor(routes, region, want);
    if (!hit || seen.has(hit.office.id)) continue;
    seen.add(hit.office.id);
    out.push({ office: hit.office, tier: hit.tier, channels: hit.office.channels.filter((c) => c.enabled) });
  }
  return out;
}
