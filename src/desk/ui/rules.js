// 研判规则: every live rule with its hits over 7 days and its own tests, a box that scores pasted
// text against the live rules (hits highlighted, the full explanation), the reload action (admin)
// and the last `sentinel rules backtest`.
import { el, $, append, toast } from './dom.js';
import { getJson, postJson } from './api.js';
import { initNav } from './nav.js';
import { highlighted, levelBadge } from './detail.js';
import { explanationRows, formatTime, levelThresholds } from './format.js';


function banner(text) {
  const b = $('#banner');
  b.textContent = text || '';
  b.hidden = !text;
}

function table(head, rows) {
  return el(
    'table',
    { class: 'grid-table' },
    el('thead', null, el('tr', null, head.map((h) => el('th', null, h)))),
    el('tbody', null, rows),
  );
}

const expectText = (x) => (x && x.match ? `预警${x.level ? `（${x.level}）` : ''}` : '不预警');

function caseList(cases) {
  return el(
    'ol',
    { class: 'cases' },
    cases.map((c) =>
      el(
        'li',
        { class: c.ok ? 'ok' : 'fail' },
        el('span', { class: 'mark' }, c.ok ? '✓' : '✗'),
        ' ',
        el('span', { class: 'case-text' }, c.text),
        el(
          'div',
          { class: 'muted' },
          `期望：${expectText(c.expected)}；实际：${expectText(c.actual)}，得分 ${c.actual.score}`,
          c.line ? `；第 ${c.line} 行` : '',
        ),
        !c.ok && c.reason ? el('div', { class: 'note' }, c.reason) : null,
      ),
    ),
  );
}

function rulesTable(body) {
  const rows = body.rules.map((r) => {
    const failed = r.tests.total - r.tests.passed;
    const tests = r.tests.total
      ? el(
          'details',
          null,
          el('summary', { class: failed ? 'error' : null }, failed ? `${failed} 项未通过 / ${r.tests.total}` : `全部通过 ${r.tests.passed} / ${r.tests.total}`),
          caseList(r.tests.cases),
        )
      : el('span', { class: 'muted' }, '无');
    return el(
      'tr',
      { 'data-rule': r.id, class: failed ? 'fail' : null },
      el('td', null, el('strong', null, r.name), el('br'), el('small', { class: 'muted' }, `${r.id}${r.file ? ` · ${r.file}` : ''}`)),
      el('td', null, r.category),
      el('td', null, levelThresholds(r.levels)),
      el('td', { class: 'num hits' }, String(r.hits)),
      el('td', null, tests),
    );
  });
  return table(['规则', '类别', '等级阈值', `近${body.window.days}天命中`, '规则自测'], rows);
}

async function loadRules() {
  const r = await getJson('/api/v1/rules');
  if (!r.ok) {
    $('#rules').replaceChildren(el('p', { class: 'error' }, r.status === 501 ? '本进程未加载研判规则' : `规则加载失败（HTTP ${r.status}）`));
    return;
  }
  const b = r.body;
  $('#loaded-at').textContent = `规则加载于 ${formatTime(b.loadedAt)}`;
  const failed = b.tests.total - b.tests.passed;
  $('#rules-summary').textContent =
    `共 ${b.rules.length} 条规则；自测 ${b.tests.total} 项，${failed ? `${failed} 项未通过` : '全部通过'}；` +
    `命中数统计 ${formatTime(b.window.from)} 至 ${formatTime(b.window.to)} 的 ${b.window.scanned} 条风险信息${b.window.capped ? '（已达上限，为下限值）' : ''}`;
  $('#rules').replaceChildren(rulesTable(b));
  document.body.dataset.loaded = 'rules';
}

function groupsCell(e) {
  const groups = (e.groups || []).filter((g) => g.terms && g.terms.length);
  if (!groups.length) return '—';
  return groups.map((g) => el('div', null, `${g.label || g.group}（权重 ${g.weight}）：`, g.terms.map((t) => el('span', { class: 'chip' }, t))));
}

function explanation(s) {
  const rows = explanationRows(s.explanation);
  if (!rows.length) return el('p', { class: 'muted' }, '没有规则命中任何词语');
  return table(
    ['规则', '类别', '结论', '得分', '等级', '命中词组', '说明'],
    rows.map((e) =>
      el(
        'tr',
        { class: e.matched ? 'matched' : 'unmatched' },
        el('td', null, e.name || e.rule, el('br'), el('small', { class: 'muted' }, e.rule)),
        el('td', null, e.category),
        el('td', null, e.matched ? '成立' : '不成立'),
        el('td', { class: 'num' }, String(e.matched ? e.score : (e.potential ?? e.score))),
        el('td', null, e.level ? levelBadge(e.level) : '—'),
        el('td', null, groupsCell(e)),
        el('td', null, e.reason, e.when ? el('div', { class: 'muted' }, `条件：${e.when}${e.near ? `，${e.near} 字内` : ''}`) : null),
      ),
    ),
  );
}

function renderScore(s) {
  const verdict = el(
    'p',
    { class: 'verdict' },
    s.risk ? [levelBadge(s.level), ` ${s.level}色预警 · ${s.category} · 得分 ${s.score}`] : `不构成预警（最高得分 ${s.score}）`,
    s.regions.length ? ` · 区域：${s.regions.map((r) => r.name).join('、')}` : '',
  );
  $('#score-result').replaceChildren(
    verdict,
    el('h3', null, '命中词（悬停查看规则与权重）'),
    highlighted(s.text, s.hits),
    el('h3', null, '研判依据'),
    el('div', { class: 'table-wrap', id: 'explanation' }, explanation(s)),
  );
}

$('#score-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target.elements;
  const text = f.text.value.trim();
  if (!text) return;
  const button = $('#score-submit');
  button.disabled = true;
  const r = await postJson('/api/v1/rules/score', { title: f.title.value.trim(), text, kind: f.kind.value });
  button.disabled = false;
  if (!r.ok) {
    $('#score-result').replaceChildren(el('p', { class: 'error' }, r.status === 501 ? '本进程不支持文本研判' : r.status === 0 ? '无法连接值班台服务' : `研判失败（HTTP ${r.status}）`));
    return;
  }
  renderScore(r.body);
});

function entries(title, list, cls) {
  if (!list.length) return null;
  return el(
    'details',
    { class: `bt-${cls}`, open: list.length <= 10 },
    el('summary', null, `${title}（${list.length}）`),
    table(
      ['信息', '发布时间', '现行', '候选', '原因'],
      list.map((x) =>
        el(
          'tr',
          null,
          el('td', null, x.title),
          el('td', null, formatTime(x.publishedAt)),
          el('td', null, x.live ? `${x.live.level} · ${x.live.category}` : '—'),
          el('td', null, x.candidate ? `${x.candidate.level} · ${x.candidate.category}` : '—'),
          el('td', null, x.reason || ''),
        ),
      ),
    ),
  );
}

async function loadBacktest() {
  const r = await getJson('/api/v1/rules/backtest');
  const box = $('#backtest');
  if (!r.ok) return box.replaceChildren(el('p', { class: 'error' }, `回测结果无法读取（HTTP ${r.status}）`));
  const rep = r.body.report;
  if (!rep) return box.replaceChildren(el('p', { class: 'muted' }, '尚无回测结果。规则修改后，在服务器上运行 sentinel rules backtest --rules 候选规则目录，结果会显示在这里。'));
  // append() skips the empty lists; replaceChildren would print them as "null"
  box.replaceChildren();
  append(box, [
    el(
      'dl',
      { class: 'figures-row' },
      [
        ['回测时间', formatTime(rep.savedAt)],
        ['数据起点', rep.since ? formatTime(rep.since) : '全部'],
        ['信息条数', rep.items],
        ['现行预警', rep.liveAlerts],
        ['候选预警', rep.candidateAlerts],
        ['新增', rep.added.length],
        ['移除', rep.removed.length],
        ['变化', rep.changed.length],
      ].map(([k, v]) => el('div', null, el('dt', null, k), el('dd', null, String(v)))),
    ),
    el('p', { class: 'muted' }, `候选规则目录：${rep.rules}`),
    entries('候选规则新增的预警', rep.added, 'added'),
    entries('候选规则移除的预警', rep.removed, 'removed'),
    entries('等级或类别变化', rep.changed, 'changed'),
  ]);
}

$('#reload').addEventListener('click', async () => {
  if (!window.confirm('确定从 rules/ 重新加载研判规则？')) return;
  const r = await postJson('/api/v1/rules/reload', {});
  if (r.ok) {
    banner('');
    toast(`已重新加载 ${r.body.rules} 条规则`);
    void loadRules();
  } else if (r.status === 422 && r.body) {
    banner(`新规则有误，仍使用原规则：${r.body.error}`);
  } else {
    banner(`重新加载失败（HTTP ${r.status}）`);
  }
});

void initNav().then((me) => {
  if (!me) return;
  $('#reload').hidden = me.role !== 'admin';
  void loadRules();
  void loadBacktest();
});

