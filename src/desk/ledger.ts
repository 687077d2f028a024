import type { Alert } from '../core/types.ts';
import { levelRank } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { allAlerts } from './collect.ts';
import { regionName } from './region-names.ts';

/**
 * 风险清单 / 工作落实台账: alerts found in a period, grouped by region or category, with how many
 * were disposed (closed) and how many are still open, the completion rate and the age of what
 * is open. Counted from the alerts themselves, so every store engine gives the same ledger.
 */
export interface LedgerRow {
  key: string;
  name: string;
  found: number;
  disposed: number;
  open: number;
  /** disposed / found, 0–1; null when nothing was found. */
  completionRate: number | null;
  /** Age in hours of the oldest open alert. */
  oldestOpenHours: number | null;
  /** Mean age in hours of the open alerts. */
  meanOpenHours: number | null;
  byReason: Record<string, number>;
}

export interface OpenRisk {
  id: string;
  level: Alert['level'];
  title: string;
  category: string;
  region: string;
  regionName: string;
  status: Alert['status'];
  assignee: string;
  firstSeenAt: string;
  ageHours: number;
}

export interface Ledger {
  from: string | null;
  to: string | null;
  groupBy: 'region' | 'category';
  rows: LedgerRow[];
  total: LedgerRow;
  open: OpenRisk[];
}

const hoursBetween = (a: string, now: Date) => Math.max(0, (now.getTime() - Date.parse(a)) / 3600_000);
const round1 = (n: number) => Math.round(n * 10) / 10;

function row(key: string, name: string, alerts: Alert[], now: Date): LedgerRow {
  const open = alerts.filter((a) => a.status !== 'closed');
  const disposed = alerts.length - open.length;
  const ages = open.map((a) => hoursBetween(a.firstSeenAt, now));
  const byReason: Record<string, number> = {};
  for (const a of alerts) if (a.status === 'closed') byReason[a.closeReason ?? '未注明'] = (byReason[a.closeReason ?? '未注明'] ?? 0) + 1;
  return {
    key,
    name,
    found: alerts.length,
    disposed,
    open: open.length,
    completionRate: alerts.length ? disposed / alerts.length : null,
    oldestOpenHours: ages.length ? round1(Math.max(...ages)) : null,
    meanOpenHours: ages.length ? round1(ages.reduce((a, b) => a + b, 0) / ages.length) : null,
    byReason,
  };
}

export async function buildLedger(
  store: Store,
  opts: { from?: string; to?: string; groupBy: 'region' | 'category'; region?: string[]; now: Date },
): Promise<Ledger> {
  const alerts = await allAlerts(store, { from: opts.from, to: opts.to, ...(opts.region ? { region: opts.region } : {}) });
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    const key = opts.groupBy === 'region' ? a.region || '' : a.category;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const nameOf = (k: string) => (opts.groupBy === 'region' ? (k ? (regionName(k) ?? k) : '未识别区域') : k);
  const rows = [...groups]
    .map(([k, as]) => row(k, nameOf(k), as, opts.now))
    .sort((a, b) => b.found - a.found || a.key.localeCompare(b.key));
  const open = alerts
    .filter((a) => a.status !== 'closed')
    .map((a) => ({
      id: a.id,
      level: a.level,
      title: a.title,
      category: a.category,
      region: a.region,
      regionName: a.region ? (regionName(a.region) ?? a.region) : '未识别区域',
      status: a.status,
      assignee: a.assignee ?? '',
      firstSeenAt: a.firstSeenAt,
      ageHours: round1(hoursBetween(a.firstSeenAt, opts.now)),
    }))
    .sort((a, b) => levelRank(a.level) - levelRank(b.level) || b.ageHours - a.ageHours);
  return { from: opts.from ?? null, to: opts.to ?? null, groupBy: opts.groupBy, rows, total: row('', '合计', alerts, opts.now), open };
}

/**
 * One CSV cell. A cell that starts with = + - @ tab or CR would be read by Excel as a formula
 * (CSV injection), so it gets a leading apostrophe; quotes, commas and newlines are quoted.
 */
export function csvCell(v: unknown): string {
  let s = v == null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** UTF-8 with a BOM, CRLF line ends: what Excel needs to open Chinese text correctly. */
export function toCsv(rows: readonly (readonly unknown[])[]): string {
  return '\ufeff' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const pct = (r: number | null) => (r === null ? '' : `${(r * 100).toFixed(1)}%`);

export function ledgerCsv(l: Ledger, sheet: 'summary' | 'open'): string {
  if (sheet === 'open') {
    return toCsv([
      ['预警编号', '等级', '标题', '类别', '区域代码', '区域', '状态', '负责', '首次发现', '已持续（小时）'],
      ...l.open.map((o) => [o.id, o.level, o.title, o.category, o.region, o.regionName, o.status, o.assignee, o.firstSeenAt, o.ageHours]),
    ]);
  }
  const head = [l.groupBy === 'region' ? '区域代码' : '类别', l.groupBy === 'region' ? '区域' : '名称', '发现', '已处置', '未处置', '处置完成率', '最长未处置（小时）', '平均未处置（小时）'];
  const line = (r: LedgerRow) => [r.key, r.name, r.found, r.disposed, r.open, pct(r.completionRate), r.oldestOpenHours ?? '', r.meanOpenHours ?? ''];
  return toCsv([head, ...l.rows.map(line), line(l.total)]);
}
