import type { ScoredItem } from '../core/types.ts';

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
