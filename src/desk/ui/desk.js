// Entry module of the duty desk page: filters (kept in the URL), the alert list, totals, the
// live feed (SSE: new alerts appear at once, 红 / 橙 beep and flash the title) and a slow
// refresh as a fallback when the feed is down.
import { el, $, toast } from './dom.js';
import { getJson } from './api.js';
import { initNav } from './nav.js';
import { beep, connectLive, flashTitle, unlockSound } from './live.js';
import { createDetail, levelBadge } from './detail.js';
import { createRegionTree } from './regions.js';
import { LEVELS, STATUS_LABELS, apiQuery, filtersFromSearch, filtersToSearch, formatTime, label, relativeTime } from './format.js';

const PAGE_SIZE = 50;
const REFRESH_MS = 30_000;
/** Alerts pushed live since the page opened: their rows are marked until the officer opens them. */
const fresh = new Set();

let filters = filtersFromSearch(location.search);
const categories = new Set();
let loading = false;
/** A filter change that arrived while a load was in flight; served right after it. */
let again = false;

const form = $('#filters');
const regionTree = createRegionTree($('#f-region'));
const listEl = $('#alerts');
const banner = $('#banner');


function showBanner(text) {
  banner.textContent = text || '';
  banner.hidden = !text;
}

const detail = createDetail($('#detail'), {
  toast,
  onChanged: () => void refresh(),
  onClosed: () => {
    filters = { ...filters, alert: '' };
    writeUrl();
    markSelected();
  },
});

function writeUrl() {
  history.replaceState(null, '', `${location.pathname}${filtersToSearch(filters)}`);
}

/** Puts the URL's filter state into the form controls. */
function fillForm() {
  for (const box of form.querySelectorAll('input[name=level]')) box.checked = filters.level.includes(box.value);
  ensureCategoryOption(filters.category);
  form.elements.category.value = filters.category;
  const status = form.elements.status;
  if (filters.status && ![...status.options].some((o) => o.value === filters.status)) {
    status.append(el('option', { value: filters.status }, filters.status));
  }
  status.value = filters.status;
  void regionTree.set(filters.region);
  const kind = form.elements.kind;
  if (filters.kind && ![...kind.options].some((o) => o.value === filters.kind)) {
    kind.append(el('option', { value: filters.kind }, filters.kind));
  }
  kind.value = filters.kind;
  form.elements.q.value = filters.q;
  form.elements.from.value = filters.from;
  form.elements.to.value = filters.to;
}

function readForm() {
  return {
    level: [...form.querySelectorAll('input[name=level]:checked')].map((b) => b.value),
    category: form.elements.category.value,
    status: form.elements.status.value,
    q: form.elements.q.value.trim(),
    region: regionTree.value(),
    kind: form.elements.kind.value,
    from: form.elements.from.value,
    to: form.elements.to.value,
    offset: 0,
    alert: filters.alert,
  };
}

function ensureCategoryOption(c) {
  if (!c || categories.has(c)) return;
  categories.add(c);
  const select = $('#f-category');
  const options = [...select.options].slice(1).map((o) => o.value);
  options.push(c);
  options.sort((a, b) => a.localeCompare(b, 'zh-CN'));
  const keep = select.value;
  select.replaceChildren(el('option', { value: '' }, '全部类别'), ...options.map((o) => el('option', { value: o }, o)));
  select.value = keep;
}

function applyForm() {
  filters = readForm();
  writeUrl();
  void refresh();
}

function alertRow(a) {
  const region = a.region ? (a.regionName ? `${a.regionName}（${a.region}）` : a.region) : '';
  const button = el(
    'button',
    { type: 'button', class: 'alert-row', 'data-id': a.id },
    levelBadge(a.level),
    el(
      'span',
      { class: 'row-main' },
      el('span', { class: 'row-title' }, a.title),
      el(
        'span',
        { class: 'row-meta' },
        el('span', null, a.category),
        region ? el('span', null, region) : null,
        el('span', null, `${a.itemCount ?? a.itemIds.length} 条信息`),
        el('span', { class: 'sources' }, a.sources.join('、')),
      ),
    ),
    el(
      'span',
      { class: 'row-side' },
      el('span', { class: `status st-${a.status}` }, label(STATUS_LABELS, a.status)),
      el('time', { datetime: a.lastSeenAt, title: formatTime(a.lastSeenAt) }, relativeTime(a.lastSeenAt)),
    ),
  );
  button.addEventListener('click', () => {
    fresh.delete(a.id);
    button.parentElement.classList.remove('fresh');
    void select(a.id);
  });
  return el('li', { class: fresh.has(a.id) ? 'fresh' : null, 'data-level': a.level }, button);
}

function markSelected() {
  for (const b of listEl.querySelectorAll('.alert-row')) {
    if (b.dataset.id === filters.alert) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
}

async function select(id) {
  filters = { ...filters, alert: id };
  writeUrl();
  markSelected();
  await detail.open(id);
}

function renderList(page) {
  if (!page.items.length) {
    listEl.replaceChildren(el('li', { class: 'empty' }, '没有符合条件的预警'));
  } else {
    listEl.replaceChildren(...page.items.map(alertRow));
  }
  markSelected();
  const from = page.total ? filters.offset + 1 : 0;
  const to = Math.min(filters.offset + page.items.length, page.total);
  $('#list-count').textContent = `共 ${page.total} 条`;
  $('#page-info').textContent = page.total ? `第 ${from}–${to} 条` : '';
  $('#prev').disabled = filters.offset === 0;
  $('#next').disabled = to >= page.total;
}

function renderTotals(stats) {
  const a = stats.alerts;
  $('#t-alerts').textContent = String(a.total);
  const open = (a.byStatus.new || 0) + (a.byStatus.acknowledged || 0) + (a.byStatus.assigned || 0);
  $('#t-open').textContent = String(open);
  for (const l of LEVELS) $(`#t-${l}`).textContent = String(a.byLevel[l] || 0);
  $('#t-items').textContent = String(stats.items.total);
}

/** Loads list and totals; quiet refreshes keep the officer's place and any open form. */
async function refresh() {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    const [list, stats] = await Promise.all([getJson(`/api/v1/alerts?${apiQuery(filters, PAGE_SIZE)}`), getJson('/api/v1/stats')]);
    if (list.status === 0) {
      showBanner('无法连接值班台服务，稍后自动重试');
      return;
    }
    if (!list.ok) {
      const issues = list.body && list.body.issues ? list.body.issues.map((i) => `${i.path}: ${i.message}`).join('；') : '';
      showBanner(`查询条件有误${issues ? `：${issues}` : `（HTTP ${list.status}）`}`);
      return;
    }
    showBanner('');
    for (const a of list.body.items) ensureCategoryOption(a.category);
    renderList(list.body);
    if (stats.ok) renderTotals(stats.body);
    $('#refreshed').textContent = `更新于 ${formatTime(new Date().toISOString()).slice(11)}`;
    if (filters.alert) {
      if (detail.currentId() !== filters.alert) await detail.open(filters.alert);
      else await detail.refreshIfChanged(list.body.items.find((a) => a.id === filters.alert));
    }
  } finally {
    loading = false;
    if (again) {
      again = false;
      void refresh();
    }
  }
}

/** The category list comes from the data: seed it from a wide page once, then grow it with every list. */
async function seedCategories() {
  const r = await getJson('/api/v1/alerts?limit=500');
  if (r.ok) for (const a of r.body.items) ensureCategoryOption(a.category);
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  applyForm();
});
form.addEventListener('change', (ev) => {
  // The keyword box applies on Enter (submit); every other control applies at once.
  if (ev.target.name !== 'q') applyForm();
});
form.addEventListener('reset', () => {
  setTimeout(() => {
    void regionTree.set('');
    applyForm();
  }, 0);
});
$('#prev').addEventListener('click', () => {
  filters = { ...filters, offset: Math.max(0, filters.offset - PAGE_SIZE) };
  writeUrl();
  void refresh();
});
$('#next').addEventListener('click', () => {
  filters = { ...filters, offset: filters.offset + PAGE_SIZE };
  writeUrl();
  void refresh();
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && detail.currentId() && !document.querySelector('.close-form')) detail.clear();
});
window.addEventListener('popstate', () => {
  filters = filtersFromSearch(location.search);
  fillForm();
  void refresh();
});

const LIVE_LABELS = { live: '实时', connecting: '连接中', offline: '已断开' };

function onLive({ type, alert }) {
  if (type === 'new') {
    fresh.add(alert.id);
    ensureCategoryOption(alert.category);
    if (alert.level === '红' || alert.level === '橙') {
      beep(alert.level);
      flashTitle(`【${alert.level}色预警】${alert.title}`);
      toast(`新${alert.level}色预警：${alert.title}`);
    }
  }
  void refresh();
}

unlockSound();
fillForm();
void initNav().then((me) => {
  if (!me) return;
  // a county user's alerts are its own region already; the tree would only offer empty choices
  if (me.role === 'county') $('#f-region').hidden = true;
  void seedCategories();
  void refresh();
  connectLive({
    onAlert: onLive,
    onState: (state) => {
      const dot = $('#live');
      dot.dataset.state = state;
      dot.textContent = LIVE_LABELS[state] || state;
    },
  });
  setInterval(() => {
    if (!document.hidden) void refresh();
  }, REFRESH_MS);
});
