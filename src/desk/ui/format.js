// Pure helpers for the desk page: no DOM, no fetch, so vitest can check them directly.

export const LEVELS = ['红', '橙', '黄', '蓝'];

export const STATUS_LABELS = { new: '新', acknowledged: '已确认', assigned: '已指派', closed: '已关闭' };

export const ACTION_LABELS = {
  acknowledge: '确认',
  assign: '指派',
  note: '备注',
  close: '关闭',
  reopen: '重新打开',
};

export const KIND_LABELS = { news: '新闻', complaint: '投诉举报', notice: '通报公告' };

export const DELIVERY_LABELS = { pending: '待发送', delivered: '已送达', dead: '发送失败' };

/** Disposal results a close must carry; the store rejects anything else. */
export const CLOSE_REASONS = ['核实属实', '不属实', '已处置', '移交'];

export function label(table, key) {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : String(key);
}

/** 刚刚 / 3分钟前 / 2小时前 / 5天前, then the date; a future time (clock skew) reads 刚刚. */
export function relativeTime(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.floor((now - t) / 1000);
  if (s < 60) return '刚刚';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}分钟前`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}小时前`;
  const d = Math.floor(h / 24);
  if (d < 30) return `${d}天前`;
  return formatTime(iso).slice(0, 10);
}

/** Local wall-clock time as 2026-11-29 08:05, for tooltips and history rows. */
export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * Splits text into plain and highlighted runs from the hits' [start, end) offsets (JS string
 * indices into item.text). Hits may overlap, repeat or point past the text after a re-normalise:
 * overlaps are clipped to what is not yet highlighted and out-of-range hits are dropped, so the
 * runs always concatenate back to exactly the text.
 */
export function highlightSegments(text, hits) {
  const valid = (hits || [])
    .filter((h) => Number.isInteger(h.start) && Number.isInteger(h.end) && h.start >= 0 && h.end <= text.length && h.end > h.start)
    .slice()
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const out = [];
  let cursor = 0;
  for (const h of valid) {
    if (h.end <= cursor) continue;
    const start = Math.max(h.start, cursor);
    if (start > cursor) out.push({ text: text.slice(cursor, start) });
    out.push({ text: text.slice(start, h.end), hit: h });
    cursor = h.end;
  }
  if (cursor < text.length || out.length === 0) out.push({ text: text.slice(cursor) });
  return out;
}

/** Reads the filter state from the page URL's query string. */
export function filtersFromSearch(search) {
  const p = new URLSearchParams(search);
  const levels = (p.get('level') || '')
    .split(',')
    .filter((l) => LEVELS.includes(l));
  return {
    level: levels,
    category: p.get('category') || '',
    status: p.get('status') || '',
    q: p.get('q') || '',
    region: /^\d{6}$/.test(p.get('region') || '') ? p.get('region') : '',
    kind: (p.get('kind') || '')
      .split(',')
      .filter((k) => Object.prototype.hasOwnProperty.call(KIND_LABELS, k))
      .join(','),
    from: p.get('from') || '',
    to: p.get('to') || '',
    offset: Math.max(0, Number.parseInt(p.get('offset') || '0', 10) || 0),
    alert: p.get('alert') || '',
  };
}

/** Writes the filter state back; empty values are left out so shared links stay short. */
export function filtersToSearch(f) {
  const p = new URLSearchParams();
  if (f.level.length) p.set('level', f.level.join(','));
  for (const k of ['category', 'status', 'q', 'region', 'kind', 'from', 'to']) if (f[k]) p.set(k, f[k]);
  if (f.offset) p.set('offset', String(f.offset));
  if (f.alert) p.set('alert', f.alert);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * The API query for the filters. The time inputs hold local wall-clock time without a zone
 * (datetime-local), so they are converted here, where the officer's zone is known, rather
 * than on the server.
 */
export function apiQuery(f, limit) {
  const p = new URLSearchParams();
  if (f.level.length) p.set('level', f.level.join(','));
  for (const k of ['category', 'status', 'q', 'region', 'kind']) if (f[k]) p.set(k, f[k]);
  for (const k of ['from', 'to']) {
    if (!f[k]) continue;
    const d = new Date(f[k]);
    if (!Number.isNaN(d.getTime())) p.set(k, d.toISOString());
  }
  p.set('limit', String(limit));
  if (f.offset) p.set('offset', String(f.offset));
  return p.toString();
}

/** Only http(s) links are made clickable; a javascript: or data: URL from a feed stays text. */
export function safeHttpUrl(url) {
  if (typeof url !== 'string' || !url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** What the officer can do with an alert in this status (mirrors the store's workflow). */
export function allowedActions(status) {
  return {
    acknowledge: status === 'new',
    assign: status !== 'closed',
    note: true,
    close: status !== 'closed',
    reopen: status === 'closed',
  };
}

/** A Chinese message for a failed action, from the HTTP status the API answered with. */
export function actionErrorMessage(status, body) {
  if (status === 409) return '该预警已被他人更新，请刷新后重试';
  if (status === 404) return '该预警不存在或已被删除';
  if (status === 422) return `当前状态下不能执行此操作${body && body.error ? `（${body.error}）` : ''}`;
  if (status === 400) return '提交的内容不完整或格式有误';
  return `操作失败（HTTP ${status}），请稍后重试`;
}

/**
 * The province, city and county a 6-digit GB/T 2260 code sits under, for the region tree's
 * three selects: 360102 → 360000 / 360100 / 360102; 360100 → 360000 / 360100 / ''.
 */
export function regionLevels(code) {
  if (!/^\d{6}$/.test(code || '')) return { province: '', city: '', county: '' };
  const province = `${code.slice(0, 2)}0000`;
  if (code === province) return { province, city: '', county: '' };
  const city = `${code.slice(0, 4)}00`;
  return { province, city, county: code === city ? '' : code };
}

/** A rule's level thresholds, most severe first: 红 ≥ 14 · 橙 ≥ 10 · 黄 ≥ 6. */
export function levelThresholds(levels) {
  const parts = LEVELS.filter((l) => levels && typeof levels[l] === 'number').map((l) => `${l} ≥ ${levels[l]}`);
  return parts.length ? parts.join(' · ') : '—';
}

/**
 * The explanation rows worth reading for a scored text: the rules that matched, then the ones
 * that saw some of their terms without matching, each by score (or what it would have scored).
 * Rules that saw nothing are left out.
 */
export function explanationRows(explanation) {
  const seen = (e) => e.matched || (Array.isArray(e.groups) && e.groups.some((g) => g.terms && g.terms.length));
  const worth = (e) => (e.matched ? e.score : typeof e.potential === 'number' ? e.potential : e.score);
  return (explanation || [])
    .filter(seen)
    .slice()
    .sort((a, b) => Number(b.matched) - Number(a.matched) || worth(b) - worth(a) || String(a.rule).localeCompare(String(b.rule)));
}
