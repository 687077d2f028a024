// 风险清单 / 工作落实台账: found / disposed / open per region or category, completion rate, age
// of what is open; CSV (UTF-8 BOM) per table and one Excel workbook, formula cells escaped by the server.
import { el, $ } from './dom.js';
import { getJson } from './api.js';
import { initNav } from './nav.js';
import { STATUS_LABELS, formatTime, label } from './format.js';

const pct = (r) => (r == null ? '—' : `${(r * 100).toFixed(1)}%`);

function query() {
  const f = $('#controls').elements;
  const p = new URLSearchParams();
  if (f.from.value) p.set('from', f.from.value);
  if (f.to.value) p.set('to', new Date(new Date(`${f.to.value}T00:00:00+08:00`).getTime() + 86_400_000 - 1).toISOString());
  p.set('groupBy', f.groupBy.value);
  return p;
}

function table(head, rows, empty) {
  if (!rows.length) return el('p', { class: 'muted' }, empty);
  return el(
    'table',
    { class: 'grid-table' },
    el('thead', null, el('tr', null, head.map((h) => el('th', null, h)))),
    el('tbody', null, rows.map((r) => el('tr', { class: r.cls || null }, r.cells.map((c) => el('td', { class: typeof c === 'number' ? 'num' : null }, c == null ? '' : String(c)))))),
  );
}

async function load() {
  const p = query();
  const r = await getJson(`/api/v1/ledger?${p}`);
  const banner = $('#banner');
  if (!r.ok) {
    banner.textContent = r.status === 0 ? '无法连接值班台服务' : `查询条件有误（HTTP ${r.status}）`;
    banner.hidden = false;
    return;
  }
  banner.hidden = true;
  const l = r.body;
  const line = (x, cls) => ({ cls, cells: [x.name, x.found, x.disposed, x.open, pct(x.completionRate), x.oldestOpenHours ?? '—', x.meanOpenHours ?? '—'] });
  $('#summary').replaceChildren(
    table(
      [l.groupBy === 'region' ? '区域' : '类别', '发现', '已处置', '未处置', '处置完成率', '最长未处置（小时）', '平均未处置（小时）'],
      [...l.rows.map((x) => line(x)), line(l.total, 'total')],
      '该时段无预警',
    ),
  );
  $('#open').replaceChildren(
    table(
      ['等级', '标题', '类别', '区域', '状态', '负责', '首次发现', '已持续（小时）'],
      l.open.map((o) => ({ cells: [o.level, o.title, o.category, o.regionName, label(STATUS_LABELS, o.status), o.assignee || '—', formatTime(o.firstSeenAt), o.ageHours] })),
      '没有未处置的风险',
    ),
  );
  $('#csv-summary').setAttribute('href', `/api/v1/ledger.csv?${p}`);
  const po = new URLSearchParams(p);
  po.set('sheet', 'open');
  $('#csv-open').setAttribute('href', `/api/v1/ledger.csv?${po}`);
  $('#xlsx').setAttribute('href', `/api/v1/ledger.xlsx?${p}`);
  document.body.dataset.loaded = 'ledger';
}

$('#controls').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void load();
});

void initNav().then((me) => {
  if (me) void load();
});
