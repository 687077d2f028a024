// 信息源状态: every source's last poll, success, error, counts and next poll, refreshed every
// 30 s. A source that fails or stays silent is shown in red: the worst failure of a monitor is
// the one nobody notices. All server text goes in as text nodes (dom.js).
import { el, $ } from './dom.js';
import { getJson } from './api.js';
import { initNav } from './nav.js';

const TYPE = { rss: '订阅源', html: '网页', hotline: '热线导入' };
const KIND = { news: '新闻', complaint: '投诉举报', notice: '通报公告' };
const time = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false }) : '—');

function ago(iso) {
  if (!iso) return '从未';
  const m = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  if (m < 1) return '刚刚';
  if (m < 60) return `${m} 分钟前`;
  if (m < 1440) return `${Math.round(m / 60)} 小时前`;
  return `${Math.round(m / 1440)} 天前`;
}

function health(s) {
  if (!s.lastPollAt) return ['未采集', 'muted'];
  if (s.consecutiveFailures >= 3) return [`连续失败 ${s.consecutiveFailures} 次`, 'bad'];
  if (s.consecutiveFailures > 0) return ['最近一次失败', 'warn'];
  return ['正常', 'ok'];
}

async function load() {
  const r = await getJson('/api/v1/sources');
  const box = $('#sources');
  if (!r.ok) {
    $('#banner').textContent = '无法读取信息源状态';
    $('#banner').hidden = false;
    return;
  }
  $('#banner').hidden = true;
  const rows = (r.body.items || []).map((s) => {
    const [label, cls] = health(s);
    return el(
      'tr',
      { class: cls === 'bad' ? 'row-bad' : '' },
      el('td', null, s.id),
      el('td', null, `${TYPE[s.type] || s.type || ''} · ${KIND[s.kind] || s.kind || ''}`),
      el('td', { class: `state-${cls}` }, label),
      el('td', null, ago(s.lastSuccessAt)),
      el('td', { title: s.lastError || '' }, s.lastError ? `${ago(s.lastErrorAt)}：${s.lastError}` : '—'),
      el('td', { class: 'num' }, String(s.seen ?? 0)),
      el('td', { class: 'num' }, String(s.new ?? 0)),
      el('td', { class: 'num' }, String(s.duplicate ?? 0)),
      el('td', null, time(s.newestItemAt)),
      el('td', null, time(s.nextPollAt)),
    );
  });
  const head = ['信息源', '类型', '状态', '最近成功', '最近错误', '采集', '新增', '重复', '最新条目', '下次采集'];
  box.replaceChildren(
    rows.length
      ? el('table', { class: 'grid-table' }, el('thead', null, el('tr', null, head.map((h) => el('th', null, h)))), el('tbody', null, rows))
      : el('p', { class: 'muted' }, '本进程没有配置信息源。'),
  );
}

const me = await initNav();
if (me) {
  await load();
  setInterval(load, 30_000);
}
