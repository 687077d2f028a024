import type { ScoredItem } from '../core/types.ts';
import type { EvalMiss, EvalReport, Prf } from '../scoring/eval.ts';
import type { LintReport } from '../scoring/lint.ts';
import type { BacktestEntry, BacktestReport } from '../scoring/backtest.ts';

/** A human reading of a score for rule writers: the verdict, then each rule with its hits. */
export function explainText(s: ScoredItem): string {
  const lines: string[] = [];
  lines.push(
    s.risk
      ? `结论: 风险 ${s.level}  类别 ${s.category}  得分 ${round(s.score)}`
      : `结论: 无风险  得分 ${round(s.score)}`,
  );
  if (s.regions.length) lines.push(`地区: ${s.regions.join(', ')}`);
  for (const e of s.explanation) {
    lines.push('');
    lines.push(`${e.matched ? '✔' : '✘'} ${e.rule} (${e.name}, ${e.category}) 得分 ${round(e.score)} 等级 ${e.level ?? '—'}`);
    lines.push(`  ${e.reason}`);
    for (const h of s.hits.filter((h) => h.rule === e.rule)) {
      const ctx = s.text.slice(Math.max(0, h.start - 8), Math.min(s.text.length, h.end + 8)).replace(/\n/g, ' ');
      lines.push(`  · [${h.group}] ${h.term} @${h.start}-${h.end} 权重 ${h.weight}${h.negated ? ' (被否定)' : ''}  …${ctx}…`);
    }
  }
  if (!s.explanation.length) lines.push('没有任何规则命中。');
  return lines.join('\n');
}

const round = (n: number) => Math.round(n * 100) / 100;

const pct = (n: number) => (n * 100).toFixed(1) + '%';
const prfLine = (name: string, p: Prf) => `${name}  P ${pct(p.precision)}  R ${pct(p.recall)}  F1 ${p.f1.toFixed(3)}  (TP ${p.tp} FP ${p.fp} FN ${p.fn})`;
const fmtMiss = (m: EvalMiss) => {
  const exp = m.expected.risk ? `${m.expected.category ?? '?'} ${m.expected.level ?? ''}`.trim() : '无风险';
  const act = m.actual.risk ? `${m.actual.category} ${m.actual.level} (${round(m.actual.score)})` : `无风险 (${round(m.actual.score)})`;
  return [`  · ${m.id} ${m.title}`, `    标注 ${exp} → 判定 ${act}`, ...m.reasons.map((r) => `    ${r}`)].join('\n');
};

/** `sentinel rules eval`: overall and per-category figures, the level confusion, the worst misses. */
export function explainEval(r: EvalReport): string {
  const lines: string[] = [`样本 ${r.total} 条`, prfLine('总体', r.overall), `类别准确率 ${pct(r.categoryAccuracy)}  等级准确率 ${pct(r.levelAccuracy)}`, '', '按类别:'];
  for (const [c, p] of Object.entries(r.categories)) lines.push('  ' + prfLine(c, p));
  const cols = Object.keys(r.levelConfusion);
  lines.push('', '等级混淆（行 = 标注，列 = 判定）:', '      ' + cols.map((c) => c.padStart(4)).join(''));
  for (const [e, row] of Object.entries(r.levelConfusion)) lines.push(`  ${e}  ` + cols.map((c) => String(row[c] ?? 0).padStart(5)).join(''));
  lines.push('', `最严重的误报 (${r.worstFalsePositives.length}):`, ...r.worstFalsePositives.map(fmtMiss));
  lines.push('', `最严重的漏报 (${r.worstFalseNegatives.length}):`, ...r.worstFalseNegatives.map(fmtMiss));
  return lines.join('\n');
}

/** `sentinel rules lint`: one line per finding, errors first. */
export function explainLint(r: LintReport, maxPerCode = 20): string {
  const line = (f: LintReport['findings'][number]) =>
    `${f.severity === 'error' ? '错误' : '警告'} [${f.code}] ${f.file ? f.file + ' ' : ''}${f.rule ? f.rule + (f.group ? '.' + f.group : '') + ': ' : ''}${f.message}`;
  const lines = r.findings.filter((f) => f.severity === 'error').map(line);
  // Warnings can run to hundreds on a large rule set: show the first few of each kind.
  const byCode = new Map<string, LintReport['findings']>();
  for (const f of r.findings.filter((f) => f.severity === 'warning')) byCode.set(f.code, [...(byCode.get(f.code) ?? []), f]);
  for (const [code, list] of byCode) {
    lines.push(...list.slice(0, maxPerCode).map(line));
    if (list.length > maxPerCode) lines.push(`  …另有 ${list.length - maxPerCode} 条 [${code}] 警告（--json 查看全部）`);
  }
  lines.push(`${r.errors} 个错误，${r.warnings} 个警告；分词器会切开的词 ${r.splitTerms} 个（已在用户词典中的不算错误）`);
  return lines.join('\n');
}

const fmtEntry = (e: BacktestEntry) => {
  const side = (a: BacktestEntry['live']) => (a ? `${a.level} ${a.category}` : '无');
  return `  · ${e.itemId} ${e.title}  [现行 ${side(e.live)} → 候选 ${side(e.candidate)}]${e.reason ? '\n    ' + e.reason : ''}`;
};

/** `sentinel rules backtest`: what the candidate rules would add, remove and change. */
export function explainBacktest(r: BacktestReport & { since: string | null }): string {
  return [
    `回测 ${r.items} 条已存条目${r.since ? `（自 ${r.since}）` : ''}：现行预警 ${r.liveAlerts} 条，候选规则预警 ${r.candidateAlerts} 条`,
    `新增 ${r.added.length}，移除 ${r.removed.length}，等级或类别变化 ${r.changed.length}，不变 ${r.unchanged}`,
    '',
    `新增预警 (${r.added.length}):`,
    ...r.added.map(fmtEntry),
    '',
    `移除预警 (${r.removed.length}):`,
    ...r.removed.map(fmtEntry),
    '',
    `等级或类别变化 (${r.changed.length}):`,
    ...r.changed.map(fmtEntry),
  ].join('\n');
}
