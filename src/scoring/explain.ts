import type { RuleExplanation } from '../core/types.ts';
import type { RuleSpec } from '../config/rules.ts';
import type { RuleEvaluation } from './engine.ts';

const KIND_NAMES: Record<string, string> = { news: '新闻', complaint: '投诉举报', notice: '公告通报' };

const fmt = (n: number): string => String(Math.round(n * 100) / 100);

export interface ExplainContext extends RuleEvaluation {
  truncated: boolean;
  scanned: number;
  length: number;
}

/**
 * One rule's explanation for the duty desk: the required fields plus the arithmetic behind the
 * score, and a reason in plain Chinese an officer can read without knowing the rule syntax.
 */
export function explainReason(rule: RuleSpec, e: ExplainContext): RuleExplanation {
  const parts: string[] = [];
  const hitGroups = e.groups.filter((g) => g.terms.length > 0);
  if (hitGroups.length) {
    parts.push('命中' + hitGroups.map((g) => `${g.label}「${g.terms.join('、')}」`).join('，'));
  } else {
    parts.push('未命中有效词');
  }
  if (e.negated.length) {
    parts.push('否定语境不计：' + e.negated.map((n) => `「${n.cue}…${n.term}」`).join('、'));
  }
  if (e.unmetContext.length) {
    parts.push('缺少语境不计：' + e.unmetContext.map((u) => `「${u.term}」附近没有${u.needs.join('或')}`).join('、'));
  }
  if (e.overriddenExclusions.length) {
    parts.push(`话题排除词「${e.overriddenExclusions.join('、')}」被强证据「${rule.overrideSource ?? ''}」推翻，不排除`);
  }

  if (e.excluded) {
    parts.push(`出现排除词「${e.excludedBy.join('、')}」（演练、培训、辟谣、回顾、广告等），不视为风险`);
  } else if (!e.anywhere) {
    parts.push(`未满足条件「${e.whenText}」`);
  } else if (!e.whenOk) {
    parts.push(`条件「${e.whenText}」所需词组未在 ${rule.near} 字内同时出现`);
  } else {
    const factors = [`基础分 ${fmt(e.base)}`];
    if (e.kindWeight !== 1) factors.push(`${KIND_NAMES[e.kind ?? ''] ?? e.kind} ×${fmt(e.kindWeight)}`);
    if (e.sourceWeight !== 1) factors.push(`来源 ×${fmt(e.sourceWeight)}`);
    if (e.calendar.factor !== 1) {
      const top = e.calendar.applied.find((a) => a.multiplier === e.calendar.factor);
      factors.push(`${top?.period ?? '重点时段'} ×${fmt(e.calendar.factor)}`);
    }
    const arithmetic = factors.length > 1 ? `${factors.join(' ')} = ${fmt(e.potential)}` : `得分 ${fmt(e.potential)}`;
    parts.push(`满足条件「${e.whenText}」${rule.near !== undefined ? `（${rule.near} 字内）` : ''}，${arithmetic}`);
    if (e.level) parts.push(`达到${e.level}色阈值 ${rule.levels[e.level]}`);
    else parts.push(`未达到最低阈值 ${Math.min(...Object.values(rule.levels))}，不预警`);
  }
  if (e.truncated) parts.push(`正文过长，仅扫描前 ${e.scanned} 字（共 ${e.length} 字）`);

  return {
    rule: rule.id,
    name: rule.name,
    category: rule.category,
    matched: e.matched,
    score: e.score,
    level: e.level,
    reason: parts.join('；') + '。',
    when: e.whenText,
    near: rule.near ?? null,
    window: e.window,
    groups: e.groups,
    excludedBy: e.excludedBy,
    overriddenExclusions: e.overriddenExclusions,
    unmetContext: e.unmetContext,
    negated: e.negated,
    base: e.base,
    kind: e.kind,
    kindWeight: e.kindWeight,
    sourceWeight: e.sourceWeight,
    calendar: e.calendar,
    potential: e.potential,
    thresholds: rule.levels,
    truncated: e.truncated,
    scanned: e.scanned,
  };
}
