import { readFileSync } from 'node:fs';
import type { Alert, Level } from '../core/types.ts';
import { LEVELS, levelRank } from '../core/types.ts';
import type { ItemQuery } from '../core/query.ts';
import type { Store } from '../store/store.ts';
import type { TrendRule } from '../config/trends.ts';
import { computeTrends, type TrendsView, type TrendWindow } from '../alerts/trends.ts';
import { allAlerts, beijingDay, beijingDayStart, beijingTime } from './collect.ts';
import { regionName } from './region-names.ts';

/**
 * 食品安全舆情日报: the document the risk-consultation meeting takes away. Built from the store
 * only (so the CLI reproduces exactly what the desk shows), rendered as HTML with a print
 * stylesheet and as Markdown. Every string from a feed is escaped on the way out.
 */
export interface Briefing {
  title: string;
  /** First and last Beijing day covered (equal for a daily briefing). */
  firstDay: string;
  lastDay: string;
  from: string;
  to: string;
  scope: string;
  generatedAt: string;
  items: { total: number; risk: number; byKind: Record<string, number> };
  alerts: { total: number; byLevel: Record<string, number> };
  /** Red and orange alerts found in the period, most severe first. */
  major: (Alert & { regionName: string })[];
  trends: TrendsView;
  complaints: { total: number; byCategory: { key: string; count: number }[]; byRegion: { key: string; name: string; count: number }[] };
  disposal: { found: number; closed: number; open: number; rate: number | null; byLevel: { level: Level; found: number; closed: number; rate: number | null }[] };
}

const KIND_LABEL: Record<string, string> = { news: '新闻', complaint: '投诉举报', notice: '通报公告' };
const STATUS_LABEL: Record<string, string> = { new: '待确认', acknowledged: '已确认', assigned: '已指派', closed: '已关闭' };

export const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function buildBriefing(
  store: Store,
  opts: { day: string; toDay?: string; region?: string; now?: Date; rules?: readonly TrendRule[] },
): Promise<Briefing> {
  const lastDay = opts.toDay ?? opts.day;
  const from = beijingDayStart(opts.day);
  const to = new Date(beijingDayStart(lastDay).getTime() + 86_400_000);
  if (!(to > from)) throw new RangeError('the last day comes before the first');
  const fromIso = from.toISOString();
  const toIso = new Date(to.getTime() - 1).toISOString();
  const region = opts.region ? [opts.region] : undefined;
  const itemFilter = { from: fromIso, to: toIso, ...(region ? { region } : {}) } as ItemQuery;

  const [kinds, risky, alerts, complaintCats, complaintRegions] = await Promise.all([
    store.aggregate({ filter: itemFilter, groupBy: 'kind', size: 10 }),
    store.aggregate({ filter: { ...itemFilter, risk: true }, groupBy: 'kind', size: 10 }),
    allAlerts(store, { from: fromIso, to: toIso, ...(region ? { region } : {}) }),
    store.aggregate({ filter: { ...itemFilter, kind: ['complaint'] }, groupBy: 'category', size: 30 }),
    store.aggregate({ filter: { ...itemFilter, kind: ['complaint'] }, groupBy: 'region', size: 30 }),
  ]);
  const days = Math.round((to.getTime() - from.getTime()) / 86_400_000);
  const window: TrendWindow = days <= 1 ? '24h' : days <= 7 ? '7d' : '30d';
  const trends = await computeTrends(store, { window, now: to, region: opts.region, rules: opts.rules, top: 8 });

  const byLevel: Record<string, number> = {};
  for (const a of alerts) byLevel[a.level] = (byLevel[a.level] ?? 0) + 1;
  const closed = alerts.filter((a) => a.status === 'closed').length;
  const sum = (bs: { count: number }[]) => bs.reduce((a, b) => a + b.count, 0);
  const rate = (c: number, f: number) => (f ? c / f : null);

  const scope = opts.region ? (regionName(opts.region) ?? opts.region) : '全省';
  const span = opts.day === lastDay ? opts.day : `${opts.day} 至 ${lastDay}`;
  return {
    title: `食品安全舆情日报（${span}）`,
    firstDay: opts.day,
    lastDay,
    from: from.toISOString(),
    to: to.toISOString(),
    scope,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    items: { total: sum(kinds), risk: sum(risky), byKind: Object.fromEntries(kinds.map((b) => [b.key, b.count])) },
    alerts: { total: alerts.length, byLevel },
    major: alerts
      .filter((a) => a.level === '红' || a.level === '橙')
      .sort((a, b) => levelRank(a.level) - levelRank(b.level) || a.firstSeenAt.localeCompare(b.firstSeenAt))
      .map((a) => ({ ...a, regionName: a.region ? (regionName(a.region) ?? a.region) : '未识别区域' })),
    trends,
    complaints: {
      total: kinds.find((k) => k.key === 'complaint')?.count ?? 0,
      byCategory: complaintCats.map((b) => ({ key: b.key, count: b.count })),
      byRegion: complaintRegions.map((b) => ({ key: b.key, name: regionName(b.key) ?? b.key, count: b.count })),
    },
    disposal: {
      found: alerts.length,
      closed,
      open: alerts.length - closed,
      rate: rate(closed, alerts.length),
      byLevel: LEVELS.map((l) => {
        const f = alerts.filter((a) => a.level === l);
        const c = f.filter((a) => a.status === 'closed').length;
        return { level: l, found: f.length, closed: c, rate: rate(c, f.length) };
      }).filter((r) => r.found > 0),
    },
  };
}

/** Default briefing day: yesterday in Beijing time (the meeting reads the day that ended). */
export function yesterday(now = new Date()): string {
  return beijingDay(new Date(now.getTime() - 86_400_000));
}

// --- rendering ------------------------------------------------------------------------------

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Markdown table cell: pipes and line breaks would break the table; HTML is neutralised too. */
export function mdCell(s: unknown): string {
  return String(s ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
    .replace(/^([#>*+-]|\d+\.)/, '\\$1');
}

const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
const kindsText = (b: Briefing) =>
  Object.entries(b.items.byKind)
    .map(([k, n]) => `${KIND_LABEL[k] ?? k} ${n} 条`)
    .join('、') || '无';
const levelsText = (b: Briefing) => LEVELS.map((l) => `${l}色 ${b.alerts.byLevel[l] ?? 0} 起`).join('、');
const fix = (n: number) => (Math.round(n * 10) / 10).toString();

function summaryLines(b: Briefing): string[] {
  return [
    `监测信息 ${b.items.total} 条（${kindsText(b)}），其中风险信息 ${b.items.risk} 条。`,
    `新增预警 ${b.alerts.total} 起（${levelsText(b)}）。`,
    `已处置 ${b.disposal.closed} 起，未处置 ${b.disposal.open} 起，处置完成率 ${pct(b.disposal.rate)}。`,
    `投诉举报 ${b.complaints.total} 件。`,
  ];
}

interface Table {
  head: string[];
  rows: (string | number)[][];
  empty: string;
}

function tables(b: Briefing): { major: Table; rising: Table; newTerms: Table; signals: Table; cats: Table; regions: Table; disposal: Table } {
  const t = b.trends;
  const risingRows = [
    ...t.rising.categories.map((k) => ['类别', k.key, k.count, fix(k.mean), fix(k.z)]),
    ...t.rising.terms.map((k) => ['关键词', k.key, k.count, fix(k.mean), fix(k.z)]),
    ...t.rising.businesses.map((k) => ['经营主体', k.key, k.count, fix(k.mean), fix(k.z)]),
  ];
  return {
    major: {
      head: ['等级', '标题', '类别', '区域', '首次发现', '状态', '负责 / 处置结果'],
      rows: b.major.map((a) => [a.level, a.title, a.category, a.regionName, beijingTime(a.firstSeenAt), STATUS_LABEL[a.status] ?? a.status, a.closeReason ?? a.assignee ?? '']),
      empty: '本期无红色、橙色预警。',
    },
    rising: { head: ['维度', '名称', '本期', '基线', 'z'], rows: risingRows, empty: '本期无明显上升项。' },
    newTerms: { head: ['类型', '名称', '条数'], rows: t.newTerms.map((k) => [k.field === 'term' ? '关键词' : '经营主体', k.key, k.count]), empty: '本期无新出现的关键词或经营主体。' },
    signals: { head: ['规则', '提示', '等级'], rows: t.signals.map((s) => [s.name, s.message, s.level]), empty: '本期趋势规则无触发。' },
    cats: { head: ['类别', '件数'], rows: b.complaints.byCategory.map((c) => [c.key, c.count]), empty: '本期无投诉举报。' },
    regions: { head: ['区域', '件数'], rows: b.complaints.byRegion.map((c) => [c.name, c.count]), empty: '本期无投诉举报。' },
    disposal: {
      head: ['等级', '发现', '已处置', '处置完成率'],
      rows: [...b.disposal.byLevel.map((r) => [`${r.level}色`, r.found, r.closed, pct(r.rate)]), ['合计', b.disposal.found, b.disposal.closed, pct(b.disposal.rate)]],
      empty: '本期无预警。',
    },
  };
}

export function renderBriefingMarkdown(b: Briefing): string {
  const t = tables(b);
  const table = (x: Table) =>
    x.rows.length
      ? [`| ${x.head.map(mdCell).join(' | ')} |`, `| ${x.head.map(() => '---').join(' | ')} |`, ...x.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n')
      : x.empty;
  return [
    `# ${mdCell(b.title)}`,
    '',
    `范围：${mdCell(b.scope)}　生成时间：${beijingTime(b.generatedAt)}（北京时间）`,
    '',
    '## 一、总体情况',
    '',
    ...summaryLines(b).map((l) => `- ${l}`),
    '',
    '## 二、红色、橙色预警',
    '',
    table(t.major),
    '',
    '## 三、趋势研判',
    '',
    '### 上升明显',
    '',
    table(t.rising),
    '',
    '### 新出现',
    '',
    table(t.newTerms),
    '',
    '### 趋势规则提示',
    '',
    table(t.signals),
    '',
    '## 四、投诉举报情况',
    '',
    '### 按类别',
    '',
    table(t.cats),
    '',
    '### 按区域',
    '',
    table(t.regions),
    '',
    '## 五、处置进展',
    '',
    table(t.disposal),
    '',
  ].join('\n');
}

let cssCache: string | null = null;
function briefingCss(): string {
  cssCache ??= readFileSync(new URL('./ui/briefing.css', import.meta.url), 'utf8');
  return cssCache;
}

/**
 * HTML for the desk (stylesheet and print button script linked, as the CSP wants) or, with
 * `standalone`, one self-contained file for the CLI with the stylesheet inlined and no script.
 */
export function renderBriefingHtml(b: Briefing, opts: { standalone?: boolean; mdHref?: string } = {}): string {
  const t = tables(b);
  const e = escapeHtml;
  const table = (x: Table, cls = '') =>
    x.rows.length
      ? `<table class="${cls}"><thead><tr>${x.head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${x.rows
          .map((r) => `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${e(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`
      : `<p class="empty">${e(x.empty)}</p>`;
  const majorRows = b.major.length
    ? `<table class="major"><thead><tr>${t.major.head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${b.major
        .map(
          (a, i) =>
            `<tr><td><span class="badge lv-${e(a.level)}">${e(a.level)}</span></td>${t.major.rows[i]!.slice(1)
              .map((c) => `<td>${e(c)}</td>`)
              .join('')}</tr>`,
        )
        .join('')}</tbody></table>`
    : `<p class="empty">${e(t.major.empty)}</p>`;
  const head = opts.standalone
    ? `<style>${briefingCss()}</style>`
    : `<link rel="stylesheet" href="/ui/briefing.css"><script type="module" src="/ui/briefing.js"></script>`;
  const toolbar = opts.standalone
    ? ''
    : `<nav class="toolbar no-print"><a href="/">返回值班台</a><button type="button" id="print">打印 / 另存为 PDF</button>${
        opts.mdHref ? `<a href="${e(opts.mdHref)}" download>下载 Markdown</a>` : ''
      }</nav>`;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(b.title)}</title>
<link rel="icon" href="data:,">
${head}
</head>
<body class="briefing">
${toolbar}
<article>
<header><h1>${e(b.title)}</h1><p class="meta">范围：${e(b.scope)}　生成时间：${e(beijingTime(b.generatedAt))}（北京时间）</p></header>
<section><h2>一、总体情况</h2>
<dl class="figures">
<div><dt>监测信息</dt><dd>${b.items.total}</dd></div>
<div><dt>风险信息</dt><dd>${b.items.risk}</dd></div>
<div><dt>新增预警</dt><dd>${b.alerts.total}</dd></div>
${LEVELS.map((l) => `<div class="lv-${l}"><dt>${l}色</dt><dd>${b.alerts.byLevel[l] ?? 0}</dd></div>`).join('\n')}
<div><dt>处置完成率</dt><dd>${e(pct(b.disposal.rate))}</dd></div>
</dl>
<ul>${summaryLines(b).map((l) => `<li>${e(l)}</li>`).join('')}</ul>
</section>
<section><h2>二、红色、橙色预警</h2>${majorRows}</section>
<section><h2>三、趋势研判</h2>
<h3>上升明显</h3>${table(t.rising)}
<h3>新出现</h3>${table(t.newTerms)}
<h3>趋势规则提示</h3>${table(t.signals)}
</section>
<section><h2>四、投诉举报情况</h2>
<div class="two"><div><h3>按类别</h3>${table(t.cats)}</div><div><h3>按区域</h3>${table(t.regions)}</div></div>
</section>
<section><h2>五、处置进展</h2>${table(t.disposal)}</section>
</article>
</body>
</html>
`;
}
