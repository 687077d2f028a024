// The detail panel: one alert with its items (hit terms highlighted), the explanation, the
// history, the deliveries, and the workflow buttons.
import { el, append } from './dom.js';
import { getJson, postJson } from './api.js';
import {
  ACTION_LABELS,
  CLOSE_REASONS,
  DELIVERY_LABELS,
  KIND_LABELS,
  STATUS_LABELS,
  actionErrorMessage,
  allowedActions,
  formatTime,
  highlightSegments,
  label,
  relativeTime,
  safeHttpUrl,
} from './format.js';

export function levelBadge(level) {
  return el('span', { class: `badge lv-${level}`, title: `${level}色预警` }, level);
}

function section(title, ...children) {
  return el('section', { class: 'd-section' }, el('h3', null, title), ...children);
}

export function highlighted(text, hits) {
  const p = el('p', { class: 'item-text' });
  for (const seg of highlightSegments(text || '', hits)) {
    if (!seg.hit) {
      p.append(document.createTextNode(seg.text));
      continue;
    }
    const h = seg.hit;
    const tip = `${h.rule} · ${h.group} · 权重 ${h.weight}${h.negated ? ' · 已被否定词抵消' : ''}`;
    p.append(el('mark', { class: h.negated ? 'hit negated' : 'hit', title: tip }, seg.text));
  }
  return p;
}

function itemCard(item, index) {
  const href = safeHttpUrl(item.url);
  const title = item.title || '（无标题）';
  return el(
    'article',
    { class: 'item' },
    el(
      'header',
      null,
      el('span', { class: 'item-no' }, `#${index + 1}`),
      href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, title) : el('span', { class: 'item-title' }, title),
    ),
    el(
      'p',
      { class: 'meta' },
      `来源：${item.sourceId}`,
      ` · ${label(KIND_LABELS, item.kind)}`,
      item.level ? [' · ', levelBadge(item.level)] : null,
      ` · 得分 ${item.score}`,
      ' · ',
      el('time', { datetime: item.publishedAt, title: formatTime(item.publishedAt) }, relativeTime(item.publishedAt)),
    ),
    highlighted(item.text ?? `${item.title}\n${item.body}`, item.hits),
  );
}

function explanationTable(items) {
  const rows = [];
  items.forEach((item, i) => {
    for (const e of item.explanation || []) {
      if (!e.matched) continue;
      rows.push(
        el(
          'tr',
          null,
          el('td', null, `#${i + 1}`),
          el('td', null, e.name || e.rule, el('br'), el('small', { class: 'muted' }, e.rule)),
          el('td', null, e.category),
          el('td', { class: 'num' }, String(e.score)),
          el('td', null, e.level ? levelBadge(e.level) : '—'),
          el('td', null, e.reason),
        ),
      );
    }
  });
  if (!rows.length) return el('p', { class: 'muted' }, '无命中规则');
  return el(
    'table',
    { class: 'grid-table' },
    el('thead', null, el('tr', null, ...['条目', '规则', '类别', '得分', '等级', '原因'].map((h) => el('th', null, h)))),
    el('tbody', null, rows),
  );
}

/** 江西省 › 赣州市 › 于都县, each step a link to the desk filtered to that region. */
export function regionCrumbs(alert) {
  const path = alert.regionPath || [];
  if (!path.length) return alert.region ? `${alert.regionName ? `${alert.regionName} ` : ''}${alert.region}` : '未识别';
  const crumbs = el('span', { class: 'crumbs', 'aria-label': '区域' });
  path.forEach((n, i) => {
    if (i) crumbs.append(el('span', { class: 'sep', 'aria-hidden': 'true' }, ' › '));
    crumbs.append(el('a', { href: `/?region=${encodeURIComponent(n.code)}`, title: n.code }, n.name));
  });
  return crumbs;
}

function historyList(history) {
  if (!history || !history.length) return el('p', { class: 'muted' }, '暂无处理记录');
  return el(
    'ol',
    { class: 'history' },
    history
      .slice()
      .reverse()
      .map((h) =>
        el(
          'li',
          null,
          el('time', { datetime: h.at }, formatTime(h.at)),
          ' ',
          el('strong', null, h.actor),
          ` ${label(ACTION_LABELS, h.action)}`,
          h.from && h.to ? `（${label(STATUS_LABELS, h.from)} → ${label(STATUS_LABELS, h.to)}）` : '',
          h.note ? el('div', { class: 'note' }, h.note) : null,
        ),
      ),
  );
}

function deliveriesTable(deliveries, error) {
  if (error) return el('p', { class: 'error' }, `推送记录暂不可用：${error}`);
  if (!deliveries || !deliveries.length) return el('p', { class: 'muted' }, '暂无推送');
  return el(
    'table',
    { class: 'grid-table' },
    el('thead', null, el('tr', null, ...['渠道', '状态', '尝试次数', '更新时间', '错误'].map((h) => el('th', null, h)))),
    el(
      'tbody',
      null,
      deliveries.map((d) =>
        el(
          'tr',
          { class: `dl-${d.status}` },
          el('td', null, d.channel),
          el('td', null, label(DELIVERY_LABELS, d.status)),
          el('td', { class: 'num' }, String(d.attempts)),
          el('td', null, formatTime(d.updatedAt)),
          el('td', null, d.lastError || ''),
        ),
      ),
    ),
  );
}

/**
 * Owns the detail pane. `onChanged` runs after a successful action so the list refreshes;
 * `toast` shows a short confirmation.
 */
export function createDetail(root, { onChanged, onClosed, toast }) {
  let current = null;
  let formOpen = false;

  function message(text, kind = 'error') {
    const box = root.querySelector('.d-message');
    if (!box) return toast(text);
    box.textContent = text;
    box.className = `d-message ${kind}`;
    box.hidden = false;
  }

  async function act(body) {
    if (!current) return;
    const id = current.id;
    const buttons = root.querySelectorAll('.actions button');
    buttons.forEach((b) => (b.disabled = true));
    const r = await postJson(`/api/v1/alerts/${encodeURIComponent(id)}/actions`, { ...body, expectedVersion: current.version });
    if (r.ok) {
      formOpen = false;
      await open(id);
      toast(`已${label(ACTION_LABELS, body.action)}`);
      onChanged();
      return;
    }
    if (r.status === 0) {
      buttons.forEach((b) => (b.disabled = false));
      return message('无法连接值班台服务，请检查网络后重试');
    }
    if (r.status === 409 && r.body && r.body.current) {
      // Show what the other officer did, so the retry starts from the current version.
      formOpen = false;
      render({ ...current, ...r.body.current });
      onChanged();
    } else {
      buttons.forEach((b) => (b.disabled = false));
    }
    message(actionErrorMessage(r.status, r.body));
  }

  function closeForm() {
    const select = el(
      'select',
      { name: 'closeReason', required: true },
      el('option', { value: '' }, '请选择处置结果'),
      CLOSE_REASONS.map((c) => el('option', { value: c }, c)),
    );
    const note = el('input', { type: 'text', name: 'note', maxlength: 2000, placeholder: '处置说明（可选）' });
    const form = el(
      'form',
      { class: 'close-form' },
      el('label', null, '处置结果 ', select),
      note,
      el('button', { type: 'submit', class: 'danger' }, '确认关闭'),
      el('button', { type: 'button', class: 'cancel' }, '取消'),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!select.value) return message('请选择处置结果');
      const n = note.value.trim();
      void act({ action: 'close', closeReason: select.value, ...(n ? { note: n } : {}) });
    });
    form.querySelector('.cancel').addEventListener('click', () => {
      formOpen = false;
      form.remove();
    });
    return form;
  }

  /** A one-field form under the action bar (assign, note): no browser prompt() that blocks the page. */
  function openInline(bar, labelText, placeholder, value, submitText, submit) {
    const existing = root.querySelector('.inline-form');
    if (existing) existing.remove();
    const input = el('input', { type: 'text', name: 'value', maxlength: 2000, placeholder, value, required: true });
    const form = el(
      'form',
      { class: 'inline-form' },
      el('label', null, `${labelText} `, input),
      el('button', { type: 'submit', class: 'primary' }, submitText),
      el('button', { type: 'button', class: 'cancel' }, '取消'),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      if (!v) return message(`请填写${labelText}`);
      void submit(v);
    });
    form.querySelector('.cancel').addEventListener('click', () => {
      formOpen = false;
      form.remove();
    });
    formOpen = true;
    bar.after(form);
    input.focus();
  }

  function actionBar(alert) {
    const can = allowedActions(alert.status);
    const btn = (text, enabled, cls, handler) => {
      const b = el('button', { type: 'button', class: cls, disabled: !enabled }, text);
      b.addEventListener('click', handler);
      return b;
    };
    const bar = el(
      'div',
      { class: 'actions' },
      btn('确认', can.acknowledge, 'primary ack', () => act({ action: 'acknowledge' })),
      btn('指派', can.assign, 'assign', () => {
        openInline(bar, '指派给', '县区市场监管局、科室或人员', alert.assignee || '', '确认指派', (v) => act({ action: 'assign', assignee: v }));
      }),
      btn('备注', can.note, 'note', () => {
        openInline(bar, '备注', '备注内容', '', '保存备注', (v) => act({ action: 'note', note: v }));
      }),
      btn('关闭', can.close, 'danger close', () => {
        if (root.querySelector('.close-form')) return;
        formOpen = true;
        bar.after(closeForm());
      }),
      btn('重新打开', can.reopen, '', () => {
        if (window.confirm('确定重新打开该预警？')) void act({ action: 'reopen' });
      }),
    );
    return bar;
  }

  function render(alert) {
    current = alert;
    const items = alert.items || [];
    // append() skips the null sections; replaceChildren would print them as "null".
    root.replaceChildren();
    append(root, [
      el(
        'header',
        { class: 'd-head' },
        el('div', { class: 'd-title' }, levelBadge(alert.level), el('h2', null, alert.title)),
        el('button', { type: 'button', class: 'd-close', 'aria-label': '关闭详情', title: '关闭详情 (Esc)' }, '×'),
      ),
      el(
        'dl',
        { class: 'd-facts' },
        [
          ['状态', el('span', { class: `status st-${alert.status}` }, label(STATUS_LABELS, alert.status))],
          ['类别', alert.category],
          ['区域', regionCrumbs(alert)],
          ['得分', String(alert.score)],
          ['首次发现', formatTime(alert.firstSeenAt)],
          ['最近更新', formatTime(alert.lastSeenAt)],
          ['负责', alert.assignee || '—'],
          ['处置结果', alert.closeReason || '—'],
        ].map(([k, v]) => el('div', null, el('dt', null, k), el('dd', null, v))),
      ),
      alert.summary ? el('p', { class: 'summary' }, alert.summary) : null,
      alert.terms && alert.terms.length
        ? el('p', { class: 'terms' }, '命中词：', alert.terms.map((t) => el('span', { class: 'chip' }, t)))
        : null,
      el('p', { class: 'd-message', role: 'alert', hidden: true }),
      actionBar(alert),
      section(
        // A large incident keeps its first and most recent reports; the count says how many there were.
        (alert.itemCount ?? 0) > items.length ? `相关信息（共 ${alert.itemCount} 条，显示最早和最新的 ${items.length} 条）` : `相关信息（${items.length}）`,
        items.length ? items.map(itemCard) : el('p', { class: 'muted' }, '条目暂不可用'),
      ),
      section('研判依据', explanationTable(items)),
      section('处理记录', historyList(alert.history)),
      section('推送记录', deliveriesTable(alert.deliveries, alert.deliveriesError)),
    ]);
    root.querySelector('.d-close').addEventListener('click', () => clear());
  }

  function clear() {
    current = null;
    formOpen = false;
    root.replaceChildren(el('p', { class: 'placeholder' }, '点击左侧预警查看详情'));
    onClosed();
  }

  async function open(id) {
    const r = await getJson(`/api/v1/alerts/${encodeURIComponent(id)}`);
    if (!r.ok) {
      current = null;
      root.replaceChildren(
        el('p', { class: 'error' }, r.status === 404 ? '该预警不存在或已被删除' : r.status === 0 ? '无法连接值班台服务' : `加载失败（HTTP ${r.status}）`),
      );
      return false;
    }
    render(r.body);
    return true;
  }

  /** Called on each auto-refresh with the list's copy: reload only when someone changed it and the officer is not mid-form. */
  async function refreshIfChanged(listAlert) {
    if (!current || formOpen || !listAlert || listAlert.id !== current.id) return;
    if (listAlert.version !== current.version || listAlert.lastSeenAt !== current.lastSeenAt) await open(current.id);
  }

  return { open, clear, refreshIfChanged, currentId: () => (current ? current.id : null) };
}
