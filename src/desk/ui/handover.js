// Shift handover: what came in during the shift, what is still open, what escalated and what
// the shift did — so the next officer starts from the same picture.
import { el, $ } from './dom.js';
import { getJson } from './api.js';
import { initNav } from './nav.js';
import { ACTION_LABELS, STATUS_LABELS, formatTime, label, relativeTime } from './format.js';
import { levelBadge } from './detail.js';

function alertLink(a) {
  return el('a', { href: `/?alert=${encodeURIComponent(a.id)}` }, a.title);
}

function alertTable(list, empty, extra) {
  if (!list.length) return el('p', { class: 'muted' }, empty);
  return el(
    'table',
    { class: 'grid-table' },
    el('thead', null, el('tr', null, ['等级', '标题', '类别', '区域', '状态', '首次发现', ...(extra ? [extra.head] : [])].map((h) => el('th', null, h)))),
    el(
      'tbody',
      null,
      list.map((row) => {
        const a = row.alert || row;
        return el(
          'tr',
          null,
          el('td', null, levelBadge(a.level)),
          el('td', null, alertLink(a)),
          el('td', null, a.category),
          el('td', null, a.regionName || a.region || '未识别'),
          el('td', null, label(STATUS_LABELS, a.status)),
          el('td', { title: formatTime(a.firstSeenAt) }, relativeTime(a.firstSeenAt)),
          extra ? el('td', null, extra.cell(row)) : null,
        );
      }),
    ),
  );
}

async function load() {
  const hours = $('#controls').elements.hours.value;
  const r = await getJson(`/api/v1/handover?hours=${hours}`);
  const banner = $('#banner');
  if (!r.ok) {
    banner.textContent = r.status === 0 ? '无法连接值班台服务' : `加载失败（HTTP ${r.status}）`;
    banner.hidden = false;
    return;
  }
  banner.hidden = true;
  const h = r.body;
  $('#span').textContent = `${formatTime(h.from)} — ${formatTime(h.to)}`;
  $('#figures').replaceChildren(
    ...[
      ['本班新增', h.arrived.length],
      ['仍未处置', h.open.length],
      ['升级', h.escalated.length],
      ['处置操作', h.actions.length],
    ].map(([k, n]) => el('div', null, el('dt', null, k), el('dd', null, String(n)))),
  );
  $('#escalated').replaceChildren(alertTable(h.escalated, '本班无升级', { head: '升级时间 / 说明', cell: (e) => `${formatTime(e.at)}${e.note ? ` ${e.note}` : ''}` }));
  $('#arrived').replaceChildren(alertTable(h.arrived, '本班无新增预警'));
  $('#open').replaceChildren(alertTable(h.open, '没有未处置的预警'));
  $('#actions').replaceChildren(
    h.actions.length
      ? el(
          'table',
          { class: 'grid-table' },
          el('thead', null, el('tr', null, ['时间', '人员', '操作', '预警', '说明'].map((x) => el('th', null, x)))),
          el(
            'tbody',
            null,
            h.actions.map((x) =>
              el('tr', null, el('td', null, formatTime(x.at)), el('td', null, x.actor), el('td', null, label(ACTION_LABELS, x.action)), el('td', null, x.title), el('td', null, x.note || '')),
            ),
          ),
        )
      : el('p', { class: 'muted' }, '本班无处置操作'),
  );
  document.body.dataset.loaded = 'handover';
}

$('#controls').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void load();
});

void initNav().then((me) => {
  if (me) void load();
});
