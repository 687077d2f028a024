// The risk-consultation view: series per category, region × category heat, rising and new
// terms and businesses. Every chart has the same numbers as a table beside it.
import { el, $ } from './dom.js';
import { getJson } from './api.js';
import { initNav } from './nav.js';

const WINDOWS = ['24h', '7d', '30d'];
const charts = [];

function pad(n) {
  return String(n).padStart(2, '0');
}
function timeLabel(iso, interval) {
  const d = new Date(iso);
  const day = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return interval === 'hour' ? `${day} ${pad(d.getHours())}:00` : day;
}
const fix = (n) => (Math.round(n * 10) / 10).toString();

function table(head, rows, empty) {
  if (!rows.length) return el('p', { class: 'muted' }, empty);
  return el(
    'table',
    { class: 'grid-table' },
    el('thead', null, el('tr', null, head.map((h) => el('th', null, h)))),
    el(
      'tbody',
      null,
      rows.map((r) => el('tr', null, r.map((c) => (c instanceof Node ? el('td', null, c) : el('td', { class: typeof c === 'number' ? 'num' : null }, String(c)))))),
    ),
  );
}

function risingTable(list) {
  return table(
    ['名称', '本期', '基线', 'z', '显著'],
    list.map((k) => [k.key, k.count, fix(k.mean), fix(k.z), k.fires ? el('span', { class: 'sig' }, '是') : '—']),
    '本期无上升项',
  );
}

function chart(id) {
  const node = $(id);
  if (!window.echarts || !node) return null;
  const existing = window.echarts.getInstanceByDom(node);
  if (existing) return existing;
  const c = window.echarts.init(node, null, { renderer: 'canvas' });
  charts.push(c);
  return c;
}

function render(v) {
  $('#span').textContent = `${new Date(v.from).toLocaleString('zh-CN', { hour12: false })} — ${new Date(v.to).toLocaleString('zh-CN', { hour12: false })}`;
  const sig = v.signals || [];
  $('#figures').replaceChildren(
    ...[
      ['监测信息', v.total],
      ['上升关键词', v.rising.terms.filter((k) => k.fires).length],
      ['新出现', v.newTerms.length],
      ['规则提示', sig.length],
    ].map(([k, n]) => el('div', null, el('dt', null, k), el('dd', null, String(n)))),
  );
  $('#signals').replaceChildren(table(['规则', '提示', '等级', '条数'], sig.map((s) => [s.name, s.message, s.level, s.count]), '本期趋势规则无触发'));

  const labels = v.series.times.map((t) => timeLabel(t, v.series.interval));
  $('#series-table').replaceChildren(
    table(['时间', ...v.series.series.map((s) => s.key)], labels.map((l, i) => [l, ...v.series.series.map((s) => s.data[i])]), '本期无数据'),
  );
  const sc = chart('#series-chart');
  if (sc) {
    sc.setOption({
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: labels },
      yAxis: { type: 'value', minInterval: 1 },
      series: v.series.series.map((s) => ({ name: s.key, type: 'line', data: s.data })),
    });
  }

  const h = v.byRegionCategory;
  const names = h.regionNames || h.regions;
  const max = Math.max(1, ...h.cells.flat());
  $('#heat-table').replaceChildren(
    h.regions.length
      ? el(
          'table',
          { class: 'grid-table heat' },
          el('thead', null, el('tr', null, el('th', null, '区域'), h.categories.map((c) => el('th', null, c)))),
          el(
            'tbody',
            null,
            h.regions.map((r, i) =>
              el(
                'tr',
                null,
                el('th', null, names[i]),
                h.cells[i].map((n) => el('td', { class: 'num', 'data-heat': String(Math.min(5, Math.ceil((n / max) * 5))) }, String(n))),
              ),
            ),
          ),
        )
      : el('p', { class: 'muted' }, '本期无数据'),
  );
  const hc = chart('#heat-chart');
  if (hc) {
    const data = [];
    h.cells.forEach((row, y) => row.forEach((n, x) => data.push([x, y, n])));
    hc.setOption({
      tooltip: { position: 'top' },
      grid: { left: 140, right: 20, top: 10, bottom: 70 },
      xAxis: { type: 'category', data: h.categories, axisLabel: { rotate: 30 } },
      yAxis: { type: 'category', data: names },
      visualMap: { min: 0, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#fff7e6', '#ffa940', '#cf1322'] } },
      series: [{ type: 'heatmap', data, label: { show: true } }],
    });
  }

  $('#rising-terms').replaceChildren(risingTable(v.rising.terms));
  $('#rising-categories').replaceChildren(risingTable(v.rising.categories));
  $('#rising-businesses').replaceChildren(risingTable(v.rising.businesses));
  $('#new-terms').replaceChildren(
    table(['类型', '名称', '条数'], v.newTerms.map((k) => [k.field === 'term' ? '关键词' : '经营主体', k.key, k.count]), '本期无新出现的关键词或经营主体'),
  );
}

async function load() {
  const p = new URLSearchParams(location.search);
  const w = WINDOWS.includes(p.get('window')) ? p.get('window') : '24h';
  for (const b of document.querySelectorAll('[data-window]')) b.setAttribute('aria-pressed', String(b.dataset.window === w));
  const r = await getJson(`/api/v1/trends?window=${w}`);
  const banner = $('#banner');
  if (!r.ok) {
    banner.textContent = r.status === 0 ? '无法连接值班台服务' : `加载失败（HTTP ${r.status}）`;
    banner.hidden = false;
    return;
  }
  banner.hidden = true;
  render(r.body);
  document.body.dataset.loaded = w;
}

for (const b of document.querySelectorAll('[data-window]')) {
  b.addEventListener('click', () => {
    history.replaceState(null, '', `?window=${b.dataset.window}`);
    void load();
  });
}
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

void initNav().then((me) => {
  if (me) void load();
});
