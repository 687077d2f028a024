/**
 * Timestamps from Chinese sources rarely carry a zone: "2026-11-29 08:15:00" means Beijing time.
 * Zone-less values are read as +08:00 so the result does not depend on the server's TZ.
 */
const LOCAL =
  /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T\s]+(\d{1,2})(?:[:时](\d{1,2}))?(?:[:分](\d{1,2})(?:\.(\d{1,6}))?)?秒?)?$/;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2}|\b(?:GMT|UTC|UT)\b[+-]?\d*)$/i;

/** Parses a time into an ISO string (UTC), or null when it is not a real time. */
export function parseChinaTime(input: string | undefined | null): string | null {
  if (input == null) return null;
  const s = input.trim().replace(/\s+/g, ' ');
  if (!s) return null;
  const m = LOCAL.exec(s);
  if (m) {
    const [, y, mo, d, h, mi, sec, frac] = m;
    // Calendar arithmetic, not an ISO string through Date.parse: a hotline import reads one time per row.
    const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
    const at = chinaInstant(Number(y), Number(mo), Number(d), h ? Number(h) : 0, mi ? Number(mi) : 0, sec ? Number(sec) : 0, ms);
    return at ? at.toISOString() : null;
  }
  // RFC 822 / ISO with a zone. "CST" in a Chinese feed is China Standard Time, not US Central.
  let z = s.replace(/\s+CST$/i, ' +0800').replace(/\s+(?:北京时间|Beijing)$/i, ' +0800');
  if (!HAS_ZONE.test(z) && /\d{1,2}:\d{2}(?::\d{2})?$/.test(z)) z += ' +0800';
  const t = Date.parse(z);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CHINA = 8 * HOUR;

/** Calendar parts of `now` as a wall clock in China. */
function chinaParts(now: Date): { y: number; m: number; d: number } {
  const c = new Date(now.getTime() + CHINA);
  return { y: c.getUTCFullYear(), m: c.getUTCMonth() + 1, d: c.getUTCDate() };
}

/** A China wall-clock time → instant, or null for an impossible date (Feb 30, 25:00). */
function chinaInstant(y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date | null {
  if (m < 1 || m > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  // Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear takes the year as written.
  const t = new Date(Date.UTC(2000, m - 1, d, h, mi, s, ms)).setUTCFullYear(y) - CHINA;
  const back = new Date(t + CHINA);
  if (back.getUTCDate() !== d || back.getUTCMonth() + 1 !== m) return null;
  return new Date(t);
}

const TIME = String.raw`(?:\s*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?秒?)?`;
const FULL = new RegExp(String.raw`(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)日?(?:T|\s*)` + TIME);
const MONTH_DAY = new RegExp(String.raw`(?<![\d.\-/])(\d{1,2})\s*[-/月]\s*(\d{1,2})(?!\d)日?` + TIME);
const DAY_WORD = new RegExp(String.raw`(今天|昨天|前天)` + TIME);
const AGO = /(\d+)\s*(秒|分钟|分|小时|个小时|天)前/;
const AGO_MS: Record<string, number> = { 秒: 1000, 分钟: 60_000, 分: 60_000, 小时: HOUR, 个小时: HOUR, 天: DAY };
/** A site's clock may run a little ahead of ours; beyond this, "11-29" without a year means last year. */
const FUTURE_SLACK = DAY;

const num = (s: string | undefined) => (s == null ? 0 : Number(s));

/**
 * Dates as Chinese list pages print them, found anywhere in `text` ("发布时间：2026-11-29"):
 * 2026年11月29日, 2026-11-29, 2026/11/29 14:05, 11-29 14:05 (this year, or last year if that
 * would lie in the future), 今天/昨天/前天 14:05, 3小时前, 15分钟前, 3天前, 刚刚, and anything
 * parseChinaTime reads. Wall-clock values are China time; relative ones count from `now`.
 * With `format` (e.g. "YYYY年MM月DD日 HH:mm") only that format is accepted.
 */
export function parseChineseDate(text: string | undefined | null, now: Date, format?: string): string | null {
  if (text == null) return null;
  const s = text.replace(/\s+/g, ' ').trim();
  if (!s) return null;
  if (format) return parseWithFormat(s, format, now);
  if (/刚刚|刚才/.test(s)) return now.toISOString();
  const ago = AGO.exec(s);
  if (ago) return new Date(now.getTime() - Number(ago[1]) * AGO_MS[ago[2]]).toISOString();
  const today = chinaParts(now);
  const word = DAY_WORD.exec(s);
  if (word) {
    const back = { 今天: 0, 昨天: 1, 前天: 2 }[word[1] as '今天' | '昨天' | '前天'];
    const day = chinaParts(new Date(now.getTime() - back * DAY));
    return chinaInstant(day.y, day.m, day.d, num(word[2]), num(word[3]), num(word[4]))?.toISOString() ?? null;
  }
  const full = FULL.exec(s);
  if (full) {
    const [, y, m, d, h, mi, sec] = full;
    return chinaInstant(Number(y), Number(m), Number(d), num(h), num(mi), num(sec))?.toISOString() ?? null;
  }
  const md = MONTH_DAY.exec(s);
  if (md) return withoutYear(today.y, Number(md[1]), Number(md[2]), num(md[3]), num(md[4]), num(md[5]), now);
  return parseChinaTime(s);
}

function withoutYear(y: number, m: number, d: number, h: number, mi: number, s: number, now: Date): string | null {
  const t = chinaInstant(y, m, d, h, mi, s);
  if (t && t.getTime() <= now.getTime() + FUTURE_SLACK) return t.toISOString();
  return chinaInstant(y - 1, m, d, h, mi, s)?.toISOString() ?? null;
}

const FORMAT_TOKENS: Record<string, string> = {
  YYYY: '(?<Y>\\d{4})',
  MM: '(?<M>\\d{1,2})',
  M: '(?<M>\\d{1,2})',
  DD: '(?<D>\\d{1,2})',
  D: '(?<D>\\d{1,2})',
  HH: '(?<h>\\d{1,2})',
  H: '(?<h>\\d{1,2})',
  mm: '(?<mi>\\d{1,2})',
  ss: '(?<s>\\d{1,2})',
};

/** Checks a `dateFormat` option: the tokens it may use, and that it names at least a month and a day. */
export function formatProblem(format: string): string | null {
  const tokens = format.match(/YYYY|MM|M|DD|D|HH|H|mm|ss/g) ?? [];
  if (!tokens.some((t) => t.startsWith('M')) || !tokens.some((t) => t.startsWith('D'))) {
    return 'a date format needs at least month and day (tokens: YYYY MM DD HH mm ss)';
  }
  if (new Set(tokens.map((t) => t[0])).size !== tokens.length) return 'each token may appear once';
  return null;
}

function formatRegex(format: string): RegExp {
  let re = '';
  for (const part of format.split(/(YYYY|MM|M|DD|D|HH|H|mm|ss)/)) {
    re += FORMAT_TOKENS[part] ?? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ +/g, '\\s*');
  }
  return new RegExp(re);
}

function parseWithFormat(s: string, format: string, now: Date): string | null {
  const g = formatRegex(format).exec(s)?.groups;
  if (!g) return null;
  const [m, d, h, mi, sec] = [g.M, g.D, g.h, g.mi, g.s].map(num);
  if (g.Y) return chinaInstant(Number(g.Y), m, d, h, mi, sec)?.toISOString() ?? null;
  return withoutYear(chinaParts(now).y, m, d, h, mi, sec, now);
}
