import type { Alert, Level } from '../../core/types.ts';
import { regionIndex } from '../../text/regions-data.ts';

/*
 * Shared Chinese rendering for the robot formats (DingTalk, WeCom, Feishu). Item text is
 * untrusted — a complaint can contain "# 标题", "[点我](http://…)" or "<font>" — so every piece
 * that came from a source goes through `plain()`: markdown and HTML control characters become
 * their full-width twins (readable to a Chinese reader, inert to every markdown parser) and line
 * breaks become spaces, so untrusted text can neither open a heading, a link or a quote nor
 * close ours. Byte limits are enforced on UTF-8 code-point boundaries.
 */

export interface RenderOptions {
  /** The duty desk's base URL; the message links to `${deskUrl}/#/alerts/${id}`. */
  deskUrl?: string;
  /** Milliseconds since the epoch, for signatures (tests pass a fixed clock). */
  now?: number;
}

/** What a robot channel needs to POST: the (signed) URL, headers and the JSON body. */
export interface RenderedMessage {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface RobotChannel {
  url: string;
  secret?: string;
}

export const LEVEL_LABEL: Record<Level, string> = {
  红: '红色预警（I级）',
  橙: '橙色预警（II级）',
  黄: '黄色预警（III级）',
  蓝: '蓝色预警（IV级）',
};
export const LEVEL_COLOR: Record<Level, string> = { 红: '#D32F2F', 橙: '#F57C00', 黄: '#FBC02D', 蓝: '#1976D2' };
export const LEVEL_EMOJI: Record<Level, string> = { 红: '🔴', 橙: '🟠', 黄: '🟡', 蓝: '🔵' };

/** Full place name of a GB/T 2260 code (江西省赣州市于都县), the code itself when unknown, 区划不明 when empty. */
export function placeName(code: string): string {
  if (!code) return '区划不明';
  try {
    return regionIndex().regions.get(code)?.fullName ?? code;
  } catch {
    return code;
  }
}

// Characters that open or close markdown / HTML structure. List markers (-, +, 1.) only act at the
// start of a line, and untrusted text never starts one here: it always follows a label.
const FULL_WIDTH: Record<string, string> = {
  '\\': '＼', '*': '＊', _: '＿', '[': '［', ']': '］', '(': '（', ')': '）', '#': '＃', '>': '＞', '<': '＜',
  '`': '｀', '~': '～', '|': '｜', '&': '＆',
};
const CONTROL = /[\\*_[\]()#><`~|&]/g;

/**
 * Untrusted text made inert for robot markdown and cards: control characters become full-width,
 * any line break or tab a space, zero-width characters dropped, runs of spaces folded.
 */
export function plain(text: string): string {
  return text
    .replace(/[\u200B-\u200F\u2028\u2029\u202A-\u202E\u2060-\u2064\uFEFF]/g, '')
    .replace(/[\r\n\t\v\f]+/g, ' ')
    .replace(CONTROL, (c) => FULL_WIDTH[c]!)
    .replace(/ {2,}/g, ' ')
    .trim();
}

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The longest prefix of `s` within `maxBytes` UTF-8 bytes, never splitting a code point; `ellipsis` appended when cut. */
export function truncateUtf8(s: string, maxBytes: number, ellipsis = '…'): string {
  if (utf8Bytes(s) <= maxBytes) return s;
  const budget = maxBytes - utf8Bytes(ellipsis);
  if (budget <= 0) return '';
  let used = 0;
  let out = '';
  for (const ch of s) {
    const n = utf8Bytes(ch);
    if (used + n > budget) break;
    used += n;
    out += ch;
  }
  return out + ellipsis;
}

/**
 * Shrinks `variable` until `build(variable)` fits in `maxBytes` bytes. `build` wraps it in the fixed
 * parts (header, link, JSON), which are never cut. Each round cuts the overshoot (plus the few bytes
 * JSON escaping may add) from the variable part.
 */
export function fitBytes(variable: string, build: (v: string) => string, maxBytes: number): string {
  let v = variable;
  let out = build(v);
  for (let i = 0; i < 20 && utf8Bytes(out) > maxBytes; i++) {
    const over = utf8Bytes(out) - maxBytes;
    v = truncateUtf8(v, Math.max(0, utf8Bytes(v) - over - 8));
    out = build(v);
  }
  if (utf8Bytes(out) > maxBytes) throw new Error(`message cannot fit in ${maxBytes} bytes even without its text`);
  return out;
}

/** Beijing time, as the desk writes it: 11月27日 12:00. */
export function beijingTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t + 8 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

export function deskLink(alertId: string, deskUrl?: string): string | undefined {
  return deskUrl ? `${deskUrl.replace(/\/+$/, '')}/#/alerts/${encodeURIComponent(alertId)}` : undefined;
}

/** Everything a robot message shows about one alert, already made safe. */
export interface AlertView {
  id: string;
  level: Level;
  levelLabel: string;
  place: string;
  category: string;
  title: string;
  summary: string;
  terms: string;
  itemCount: number;
  sourceCount: number;
  firstSeen: string;
  link?: string;
}

export const MAX_TERMS = 12;

export function alertView(alert: Alert, opts: RenderOptions = {}): AlertView {
  const link = deskLink(alert.id, opts.deskUrl);
  return {
    id: alert.id,
    level: alert.level,
    levelLabel: LEVEL_LABEL[alert.level],
    place: placeName(alert.region),
    category: plain(alert.category),
    title: truncateUtf8(plain(alert.title), 300),
    summary: plain(alert.summary),
    terms: alert.terms.slice(0, MAX_TERMS).map(plain).filter(Boolean).join('、') || '无',
    itemCount: alert.itemCount ?? alert.itemIds.length,
    sourceCount: alert.sources.length,
    firstSeen: beijingTime(alert.firstSeenAt),
    ...(link ? { link } : {}),
  };
}

/** One-line headline, also the DingTalk title and the notification preview. */
export function headline(v: AlertView): string {
  return `${v.levelLabel}｜${v.place}｜${v.category}`;
}

/** Markdown lines before the summary (fixed, never truncated). */
export function markdownHead(v: AlertView, levelText: string): string[] {
  return [
    `### ${LEVEL_EMOJI[v.level]} 食安哨兵 ${levelText}`,
    `**${v.title}**`,
    `- 地区：${v.place}`,
    `- 类别：${v.category}`,
    `- 命中词：${v.terms}`,
    `- 信息条数：${v.itemCount}条（${v.sourceCount}个来源）`,
    `- 首次发现：${v.firstSeen}`,
  ];
}

/** Markdown lines after the summary: the desk link. */
export function markdownTail(v: AlertView): string[] {
  return v.link ? [`[到值班台处置](${v.link})`] : ['请到值班台处置'];
}

/** One digest line per alert. */
export function digestLine(v: AlertView): string {
  const title = truncateUtf8(v.title, 120);
  return `- ${LEVEL_EMOJI[v.level]} ${v.levelLabel.slice(0, 4)}｜${v.place}｜${v.category}｜${title}${v.link ? `（[查看](${v.link})）` : ''}`;
}

/** Alerts in a digest, most severe first, then newest. */
export function digestOrder(alerts: readonly Alert[]): Alert[] {
  const rank: Record<Level, number> = { 红: 0, 橙: 1, 黄: 2, 蓝: 3 };
  return [...alerts].sort((a, b) => rank[a.level] - rank[b.level] || b.firstSeenAt.localeCompare(a.firstSeenAt));
}

/**
 * Digest markdown: a header line and one line per alert, cut to fit `maxBytes` with a closing
 * "另有N条" line for the ones left out (they are all on the desk).
 */
export function digestMarkdown(alerts: readonly Alert[], opts: RenderOptions, maxBytes: number, wrap: (md: string) => string): string {
  const views = digestOrder(alerts).map((a) => alertView(a, opts));
  const counts = (['红', '橙', '黄', '蓝'] as Level[])
    .map((l) => [l, views.filter((v) => v.level === l).length] as const)
    .filter(([, n]) => n > 0)
    .map(([l, n]) => `${l}${n}`)
    .join(' ');
  const head = `### 食安哨兵 预警汇总（${views.length}条：${counts}）`;
  const note = '推送频率已达上限，以下预警合并发送：';
  const desk = opts.deskUrl ? `[打开值班台](${opts.deskUrl.replace(/\/+$/, '')}/#/alerts)` : '请到值班台查看全部预警';
  for (let shown = views.length; shown >= 0; shown--) {
    const lines = [head, note, ...views.slice(0, shown).map(digestLine)];
    if (shown < views.length) lines.push(`- ……另有${views.length - shown}条，请到值班台查看`);
    lines.push(desk);
    const out = wrap(lines.join('\n'));
    if (utf8Bytes(out) <= maxBytes) return out;
  }
  throw new Error(`digest cannot fit in ${maxBytes} bytes`);
}
