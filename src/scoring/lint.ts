import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { LEVELS, type Level } from '../core/types.ts';
import type { RuleSet, RuleSpec } from '../config/rules.ts';
import { whenGroups, type WhenExpr } from './when.ts';
import { groupScore } from './engine.ts';
import { dictWords } from './dict.ts';

export type LintSeverity = 'error' | 'warning';
export type LintCode = 'dead-term' | 'dead-group' | 'duplicate-term' | 'split-term' | 'unreachable-level';

export interface LintFinding {
  severity: LintSeverity;
  code: LintCode;
  rule?: string;
  file?: string;
  group?: string;
  term?: string;
  message: string;
}

export interface LintReport {
  errors: number;
  warnings: number;
  findings: LintFinding[];
  /** Terms the segmenter cuts apart without the user dictionary (all are fine while user.dict holds them). */
  splitTerms: number;
}

export interface LintOptions {
  /** Cuts a term WITHOUT the user dictionary; terms it splits must be listed in rules/dict/user.dict. */
  cut?: (term: string) => string[];
}

/**
 * The highest score a rule can reach: every positive group at its cap, the largest kind weight
 * and the largest calendar multiplier that can apply to its category. Source weights are a
 * pipeline setting (default 1) and are left out, so a level reachable only through one is flagged.
 */
export function maxScore(set: RuleSet, rule: RuleSpec): number {
  let base = 0;
  for (const g of rule.groups) {
    const pos = g.terms.map((t) => t.weight).filter((w) => w > 0);
    if (pos.length) base += groupScore(pos);
  }
  const kind = Math.max(...Object.values(rule.kindWeights));
  // As calendarBoost: the largest multiplier a period offers (category, else '*', or a focus term); periods never compound.
  let calendar = 1;
  for (const p of set.calendar.periods) {
    calendar = Math.max(calendar, p.multipliers[rule.category] ?? p.multipliers['*'] ?? 1, p.focus?.multiplier ?? 1);
  }
  return Math.round(base * kind * calendar * 100) / 100;
}

/**
 * Static checks a rule writer runs before committing: dead terms and groups, the same term in
 * rules of different categories, terms jieba would split that the user dictionary lacks, and
 * level thresholds a rule can never reach.
 */
export function lintRuleSet(set: RuleSet, opts: LintOptions = {}): LintReport {
  const findings: LintFinding[] = [];
  const at = (rule: RuleSpec) => ({ rule: rule.id, file: shortPath(rule.file) });

  // Dead terms: a longer term holding a shorter term of the same group at the same weight adds no
  // recall — wherever it matches, the shorter one would have matched and scored the same.
  // A longer term that holds a negation cue or an exclusion is not dead: it exists to shadow them
  // (「没有健康证」 keeps 「没有」 from negating, 「虚假广告」 keeps 「广告」 from excluding).
  const guards = [...set.common.negation.cues, ...set.common.negation.notCues, ...set.common.unless, ...set.common.unlessTopic.terms];
  for (const rule of set.rules) {
    const ruleGuards = [...guards, ...rule.unless, ...rule.unlessTopic, ...rule.negatedBy];
    for (const g of rule.groups) {
      for (const long of g.terms) {
        if (ruleGuards.some((c) => long.term.includes(c))) continue;
        const inner = g.terms.find((t) => t !== long && t.term.length < long.term.length && long.term.includes(t.term) && t.weight === long.weight);
        if (inner) {
          findings.push({
            severity: 'warning',
            code: 'dead-term',
            ...at(rule),
            group: g.name,
            term: long.term,
            message: `「${long.term}」 is shadowed by 「${inner.term}」 in the same group with the same weight: it adds nothing`,
          });
        }
      }
    }
  }

  // Dead groups: not referenced by when / override / any context, and unable to move the score.
  for (const rule of set.rules) {
    const w = whenGroups(rule.when);
    const used = new Set([...w.positive, ...w.negative]);
    if (rule.override) for (const g of [...whenGroups(rule.override).positive, ...whenGroups(rule.override).negative]) used.add(g);
    for (const g of rule.groups) for (const c of g.context?.groups ?? []) used.add(c);
    for (const g of rule.groups) {
      if (used.has(g.name)) continue;
      if (g.terms.every((t) => t.weight === 0)) {
        findings.push({ severity: 'warning', code: 'dead-group', ...at(rule), group: g.name, message: `group ${g.name} is not used by when, override or a context and weighs 0: it can never matter` });
      }
    }
  }

  // The same term in the anchor groups (required by every way `when` can hold) of rules filing
  // under different categories: one setting word, two routes for the desk.
  const owners = new Map<string, { rule: RuleSpec; group: string }[]>();
  for (const rule of set.rules) {
    const required = anchorGroups(rule.when);
    for (const g of rule.groups) {
      if (!required.has(g.name)) continue;
      for (const t of g.terms) {
        if (t.weight <= 0) continue;
        const list = owners.get(t.term) ?? [];
        list.push({ rule, group: g.name });
        owners.set(t.term, list);
      }
    }
  }
  for (const [term, list] of owners) {
    const cats = new Set(list.map((o) => o.rule.category));
    if (cats.size < 2) continue;
    findings.push({
      severity: 'warning',
      code: 'duplicate-term',
      term,
      message: `「${term}」 is a required term in rules of different categories: ${list.map((o) => `${o.rule.id}.${o.group} (${o.rule.category})`).join(', ')}`,
    });
  }

  // Terms the segmenter would split must be in the user dictionary, or search and trends lose them.
  let splitTerms = 0;
  if (opts.cut) {
    const dictFile = path.join(set.dir, 'dict', 'user.dict');
    const dict = existsSync(dictFile) ? dictWords(readFileSync(dictFile, 'utf8')) : new Set<string>();
    const seen = new Set<string>();
    for (const rule of set.rules) {
      for (const g of rule.groups) {
        for (const t of g.terms) {
          if (seen.has(t.term) || t.term.length < 2) continue;
          seen.add(t.term);
          const tokens = opts.cut(t.term);
          if (tokens.length <= 1) continue;
          splitTerms++;
          if (!dict.has(t.term)) {
            findings.push({
              severity: 'error',
              code: 'split-term',
              ...at(rule),
              group: g.name,
              term: t.term,
              message: `「${t.term}」 is cut into ${tokens.join(' / ')} and is missing from ${shortPath(dictFile)}; run npx tsx src/scoring/dict.ts ${set.dir}`,
            });
          }
        }
      }
    }
  }

  // Levels above what the rule can ever score.
  for (const rule of set.rules) {
    const max = maxScore(set, rule);
    for (const level of LEVELS) {
      const threshold = rule.levels[level as Level];
      if (threshold !== undefined && threshold > max) {
        findings.push({ severity: 'error', code: 'unreachable-level', ...at(rule), message: `level ${level} needs ${threshold} but the rule can score at most ${max}` });
      }
    }
  }

  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    findings,
    splitTerms,
  };
}

/** Groups every satisfying assignment of `when` needs: `place and (a or b)` → {place}. */
export function anchorGroups(expr: WhenExpr): Set<string> {
  switch (expr.type) {
    case 'group':
      return new Set([expr.name]);
    case 'not':
      return new Set();
    case 'and':
      return new Set(expr.items.flatMap((e) => [...anchorGroups(e)]));
    case 'or': {
      const [first, ...rest] = expr.items.map(anchorGroups);
      return new Set([...(first ?? [])].filter((g) => rest.every((r) => r.has(g))));
    }
  }
}

/** Relative to the working directory when inside it, else absolute. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}
