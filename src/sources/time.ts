/**
 * Timestamps from Chinese sources rarely carry a zone: "2026-11-29 08:15:00" means Beijing time.
 * Zone-less values are read as +08:00 so the result does not depend on the server's TZ.
 */
const LOCAL =
  /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T\s]+(\d{1,2})(?:[:时](\d{1,2}))?(?:[:分](\d{1,2})(?:\.(\d{1,6}))?)?秒?)?$/;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2}|\b(?:GMT|UTC|UT)\b[+-]?\d*)$/i;

const pad = (n: number | string, w = 2) => String(n).padStart(w, '0');

/** Parses a time into an ISO string (UTC), or null when it is not a real time. */
export function parseChinaTime(input: string | undefined | null): string | null {
  if (input == null) return null;
  const s = input.trim().replace(/\s+/g, ' ');
  if (!s) return null;
  const m = LOCAL.exec(s);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = ''] = m;
    const [Y, M, D, H, MI, S] = [y, mo, d, h, mi, sec].map(Number);
    if (M < 1 || M > 12 || D < 1 || D > 31 || H > 23 || MI > 59 || S > 59) return null;
    const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
    const iso = `${y}-${pad(M)}-${pad(D)}T${pad(H)}:${pad(MI)}:${pad(S)}.${pad(ms, 3)}+08:00`;
    const t = Date.parse(iso);
    // Date.parse rolls 2026-02-30 over into March; a round trip catches impossible days.
    const back = new Date(t + 8 * 3600_000);
    if (Number.isNaN(t) || back.getUTCDate() !== D || back.getUTCMonth() + 1 !== M) return null;
    return new Date(t).toISOString();
  }
  // RFC 822 / ISO with a zone. "CST" in a Chinese feed is China Standard Time, not US Central.
  let z = s.replace(/\s+CST$/i, ' +0800').replace(/\s+(?:北京时间|Beijing)$/i, ' +0800');
  if (!HAS_ZONE.test(z) && /\d{1,2}:\d{2}(?::\d{2})?$/.test(z)) z += ' +0800';
  const t = Date.parse(z);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
