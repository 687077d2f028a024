// 推送通道与静默: silences (everyone; a county office within its region) with their audit, the
// form to set one, and for administrators every push channel with its delivery counts and a
// "send test message" button. All text from the server goes in as text nodes (dom.js).
import { el, $, toast as showToast } from './dom.js';
import { getJson, postJson, csrfToken } from './api.js';
import { initNav } from './nav.js';

const STATE = { active: '生效中', expired: '已到期', deleted: '已解除' };
const ROLE = { primary: '主通道', fallback: '备用通道', 'catch-all': '全量接口' };
const KIND = { webhook: '通用接口', dingtalk: '钉钉机器人', wecom: '企业微信机器人', feishu: '飞书机器人' };
const AUDIT = { create: '设置', expire: '到期', delete: '解除' };

const toast = (text) => showToast(text, 5000);

function banner(text) {
  const b = $('#banner');
  b.textContent = text || '';
  b.hidden = !text;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false }) : '');

function table(head, rows) {
  return el('table', { class: 'grid-table' }, el('thead', null, el('tr', null, head.map((h) => el('th', null, h)))), el('tbody', null, rows));
}

function issuesText(body) {
  if (!body) return '网络错误，请稍后再试';
  const list = (body.issues || []).map((i) => `${i.path}：${i.message}`);
  return list.length ? list.join('；') : body.error || '操作失败';
}

async function removeSilence(id) {
  if (!confirm('确定提前解除该静默？解除后新预警会恢复推送。')) return;
  let r;
  try {
    const res = await fetch(`/api/v1/silences/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'x-csrf-token': csrfToken() },
    });
    r = { ok: res.ok, body: await res.json().catch(() => null) };
  } catch {
    r = { ok: false, body: null };
  }
  toast(r.ok ? '已解除静默' : `解除失败：${issuesText(r.body)}`);
  await loadSilences();
}

async function loadSilences() {
  const r = await getJson('/api/v1/silences');
  const box = $('#silences');
  if (!r.ok) {
    box.replaceChildren(el('p', { class: 'muted' }, `无法读取静默列表（${r.status}）`));
    return;
  }
  const list = r.body.silences;
  if (!list.length) {
    box.replaceChildren(el('p', { class: 'muted' }, '暂无静默'));
    return;
  }
  const rows = list.map((s) =>
    el(
      'tr',
      null,
      el('td', null, [s.rule ? `规则 ${s.rule}` : '', s.category ? `类别 ${s.category}` : ''].filter(Boolean).join(' / ')),
      el('td', null, s.region),
      el('td', null, time(s.until)),
      el('td', null, s.reason),
      el('td', { class: `state-${s.state}` }, STATE[s.state] || s.state),
      el('td', null, el('ul', { class: 'audit' }, s.audit.map((a) => el('li', null, `${time(a.at)} ${AUDIT[a.action] || a.action}（${a.actor}）`)))),
      el('td', null, s.state === 'active' ? el('button', { type: 'button', 'data-id': s.id, class: 'end-silence' }, '解除') : ''),
    ),
  );
  box.replaceChildren(table(['对象', '区划', '至', '原因', '状态', '记录', ''], rows));
  for (const b of box.querySelectorAll('button.end-silence')) b.addEventListener('click', () => removeSilence(b.getAttribute('data-id')));
}

async function testChannel(name, cell) {
  cell.replaceChildren('发送中…');
  const r = await postJson(`/api/v1/channels/${encodeURIComponent(name)}/test`, {});
  const o = r.body;
  if (!r.ok || !o) {
    cell.replaceChildren(el('span', { class: 'outcome-fail' }, `失败：${issuesText(o)}`));
    return;
  }
  cell.replaceChildren(
    o.ok
      ? el('span', { class: 'outcome-ok' }, `已发送（HTTP ${o.status}，${o.ms} 毫秒）`)
      : el('span', { class: 'outcome-fail' }, `失败：${o.error}${o.retryAt ? `，可在 ${time(o.retryAt)} 后重试` : ''}`),
  );
}

async function loadChannels() {
  const r = await getJson('/api/v1/channels');
  const box = $('#channels');
  if (!r.ok) {
    box.replaceChildren(el('p', { class: 'muted' }, r.status === 404 ? '本进程未配置推送通道' : `无法读取通道（${r.status}）`));
    return;
  }
  const rows = r.body.channels.map((c) => {
    const result = el('td', { class: 'test-result' });
    const button = el('button', { type: 'button', disabled: !c.enabled }, '发送测试消息');
    button.addEventListener('click', () => testChannel(c.name, result));
    return el(
      'tr',
      { class: c.enabled ? null : 'disabled-row' },
      el('td', null, c.name),
      el('td', null, c.office ? `${c.office.name}（${c.office.region}）` : '—'),
      el('td', null, KIND[c.kind] || c.kind),
      el('td', null, ROLE[c.role] || c.role),
      el('td', null, c.enabled ? (c.signed ? '启用（已加签）' : '启用') : `未启用：${c.disabledReason || ''}`),
      el('td', null, `${c.counts.delivered} / ${c.counts.pending} / ${c.counts.dead}`),
      el('td', null, button),
      result,
    );
  });
  box.replaceChildren(table(['通道', '单位', '类型', '用途', '状态', '成功 / 待发 / 失败', '', '测试结果'], rows));
}

async function main() {
  const me = await initNav();
  if (!me) return;
  if (me.role === 'county' && me.region) $('#silence-form').elements.region.value = me.region;
  $('#silence-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const data = { region: f.region.value.trim(), until: f.until.value.trim(), reason: f.reason.value.trim() };
    if (f.rule.value.trim()) data.rule = f.rule.value.trim();
    if (f.category.value.trim()) data.category = f.category.value.trim();
    const r = await postJson('/api/v1/silences', data);
    if (r.ok) {
      banner('');
      toast('静默已设置');
      ev.target.reset();
      if (me.role === 'county' && me.region) f.region.value = me.region;
    } else banner(`设置失败：${issuesText(r.body)}`);
    await loadSilences();
  });
  await loadSilences();
  if (me.role === 'admin') {
    $('#channels-card').hidden = false;
    await loadChannels();
  }
}

main();
