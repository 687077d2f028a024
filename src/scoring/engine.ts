import { LEVELS, type Hit, type ItemKind, type Level, type RuleExplanation } from '../core/types.ts';
import { loadRuleSet, type CalendarPeriod, type RuleSet, type RuleSpec } from '../config/rules.ts';
import { TermMatcher, leftmostLongest } from './matcher.ts';
import { evaluateWhen, formatWhen, whenGroups } from './when.ts';
import { activePeriods, calendarBoost, type CalendarBoost } from './calendar.ts';
import { explainReason } from './explain.ts';

export interface ScoreInput {
  /** Already normalised (normaliseItemText); hit offsets point into it. */
  text: string;
  kind: ItemKind;
  sourceId?: string;
  /** From the pipeline config; default 1. */
  sourceWeight?: number;
  /** For calendar boosts; defaults to the engine's clock. */
  at?: Date;
  title?: string;
}

export interface ScoreResult {
  risk: boolean;
  level: Level | null;
  category: string | null;
  score: number;
  hits: Hit[];
  explanation: RuleExplanation[];
}

export interface RuleEngine {
  score(input: ScoreInput): ScoreResult;
  readonly rules: readonly { id: string; name: string; category: string }[];
  /** Every term the engine matches (groups, exclusions, cues, focus terms): the segmenter's user dictionary. */
  readonly terms: readonly string[];
  readonly dir: string;
  readonly loadedAt: string;
}

type Payload =
  | { kind: 'term'; rule: number; group: number; weight: number }
  /** rule -1: a common exclusion that applies to every rule. */
  | { kind: 'unless'; rule: number; topic: boolean }
  | { kind: 'cue'; rule: number }
  | { kind: 'notcue' }
  | { kind: 'focus'; period: number };

interface Span {
  start: number;
  end: number;
  term: string;
}
interface RuleSpan extends Span {
  role: 'term' | 'unless';
  group: number;
  weight: number;
  /** A topic exclusion (食谱, 回顾): it only counts at the head of the text. */
  topic?: boolean;
}
interface CueSpan extends Span {
  rule: number;
  real: boolean;
}

/** Details of one rule's evaluation, kept beside the public RuleExplanation. */
export interface GroupScore {
  group: string;
  label: string;
  weight: number;
  score: number;
  terms: string[];
}

// Punctuation that ends the reach of a negation cue: 「未发现异常，但3人腹泻」 must still count 腹泻.
const CLAUSE_END = /[，,。.！!？?；;\n]/;

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Upper bound for ScoreInput.sourceWeight. */
export const MAX_SOURCE_WEIGHT = 10;

function levelFor(score: number, levels: RuleSpec['levels']): Level | null {
  for (const level of LEVELS) {
    const threshold = levels[level];
    if (threshold !== undefined && score >= threshold) return level;
  }
  return null;
}

/**
 * A group contributes its strongest distinct term, plus a quarter of each further distinct term,
 * capped at 1.5× the strongest: more synonyms is more evidence, but ten ways of saying 呕吐 are
 * not ten cases of poisoning. Negative weights (advisory wording) work the same way downwards.
 */
export function groupScore(weights: readonly number[]): number {
  if (weights.length === 0) return 0;
  const sorted = [...weights].sort((a, b) => Math.abs(b) - Math.abs(a));
  const top = sorted[0]!;
  let s = top;
  for (let i = 1; i < sorted.length; i++) s += 0.25 * sorted[i]!;
  const cap = 1.5 * Math.abs(top);
  return Math.max(-cap, Math.min(cap, s));
}

class CompiledEngine implements RuleEngine {
  readonly rules: readonly { id: string; name: string; category: string }[];
  readonly terms: readonly string[];
  readonly dir: string;
  readonly loadedAt: string;
  private readonly matcher: TermMatcher<Payload>;
  private readonly polarity: { positive: Set<string>; negative: Set<string> }[];

  constructor(
    readonly set: RuleSet,
    private readonly now: () => Date,
  ) {
    this.dir = set.dir;
    this.loadedAt = now().toISOString();
    this.rules = set.rules.map((r) => ({ id: r.id, name: r.name, category: r.category }));
    this.polarity = set.rules.map((r) => whenGroups(r.when));

    const entries: [string, Payload][] = [];
    set.rules.forEach((r, ri) => {
      r.groups.forEach((g, gi) => {
        for (const t of g.terms) entries.push([t.term, { kind: 'term', rule: ri, group: gi, weight: t.weight }]);
      });
      for (const t of r.unless) entries.push([t, { kind: 'unless', rule: ri, topic: false }]);
      for (const t of r.unlessTopic) entries.push([t, { kind: 'unless', rule: ri, topic: true }]);
      for (const t of r.negatedBy) entries.push([t, { kind: 'cue', rule: ri }]);
    });
    for (const t of set.common.unless) entries.push([t, { kind: 'unless', rule: -1, topic: false }]);
    for (const t of set.common.unlessTopic.terms) entries.push([t, { kind: 'unless', rule: -1, topic: true }]);
    for (const t of set.common.negation.cues) entries.push([t, { kind: 'cue', rule: -1 }]);
    for (const t of set.common.negation.notCues) entries.push([t, { kind: 'notcue' }]);
    set.calendar.periods.forEach((p, pi) => {
      for (const t of p.focus?.terms ?? []) entries.push([t, { kind: 'focus', period: pi }]);
    });
    this.matcher = new TermMatcher(entries);
    this.terms = [...new Set(entries.map(([t]) => t))].sort();
  }

  score(input: ScoreInput): ScoreResult {
    const full = typeof input?.text === 'string' ? input.text : '';
    const { scanChars, maxHits } = this.set.common.limits;
    const truncated = full.length > scanChars;
    const text = truncated ? full.slice(0, scanChars) : full;
    const kind = input?.kind;
    // A source weight is a modest trust factor; absurd values (NaN, 1e300) must not make scores infinite.
    const sourceWeight =
      typeof input?.sourceWeight === 'number' && Number.isFinite(input.sourceWeight) && input.sourceWeight > 0
        ? Math.min(input.sourceWeight, MAX_SOURCE_WEIGHT)
        : 1;
    const at = input?.at instanceof Date && Number.isFinite(input.at.getTime()) ? input.at : this.now();
    const active = activePeriods(this.set.calendar, at);

    const perRule: RuleSpan[][] = this.set.rules.map(() => []);
    const cueCandidates: CueSpan[] = [];
    const focusPresent = new Set<string>();
    for (const m of this.matcher.match(text)) {
      for (const p of m.payloads) {
        const span = { start: m.start, end: m.end, term: m.term };
        switch (p.kind) {
          case 'term':
            perRule[p.rule]!.push({ ...span, role: 'term', group: p.group, weight: p.weight });
            break;
          case 'unless': {
            const u: RuleSpan = { ...span, role: 'unless', group: -1, weight: 0, topic: p.topic };
            if (p.rule >= 0) perRule[p.rule]!.push(u);
            else for (const list of perRule) list.push(u);
            break;
          }
          case 'cue':
            cueCandidates.push({ ...span, rule: p.rule, real: true });
            break;
          case 'notcue':
            cueCandidates.push({ ...span, rule: -1, real: false });
            break;
          case 'focus': {
            const period = this.set.calendar.periods[p.period];
            if (period && active.includes(period)) focusPresent.add(period.name);
            break;
          }
        }
      }
    }
    // 「没多久」 outranks the cue 「没」 inside it, then only real cues remain.
    const cues = leftmostLongest(cueCandidates).filter((c) => c.real);
    // The head of a text is its title plus the first characters of the body: where a text says what it is about.
    const title = typeof input?.title === 'string' ? input.title : '';
    const titleEnd = title && text.startsWith(title) ? title.length + 1 : 0;
    const headEnd = titleEnd + this.set.common.unlessTopic.head;

    const hits: Hit[] = [];
    const explanation: RuleExplanation[] = [];
    let best: { score: number; level: Level; category: string; priority: number } | null = null;
    let bestUnlevelled = 0;

    this.set.rules.forEach((rule, ri) => {
      // A rule none of whose own terms occurs cannot match: a shared exclusion word alone (宣传,
      // 科普…) must not make every rule evaluate and explain itself (the cost grew with the rule count).
      if (!perRule[ri]!.some((x) => x.role === 'term')) return;
      const spans = leftmostLongest(perRule[ri]!);
      if (spans.length === 0) return;
      const r = this.evaluateRule(rule, ri, spans, cues, text, headEnd, kind, sourceWeight, active, focusPresent);
      for (const s of spans) {
        if (hits.length >= maxHits) break;
        hits.push({
          rule: rule.id,
          group: s.role === 'unless' ? 'unless' : rule.groups[s.group]!.name,
          term: s.term,
          start: s.start,
          end: s.end,
          weight: s.weight,
          negated: r.negatedSpans.has(s),
        });
      }
      explanation.push(
        explainReason(rule, {
          ...r,
          truncated,
          scanned: text.length,
          length: full.length,
        }),
      );
      if (r.matched && r.level) {
        const better =
          !best ||
          r.score > best.score ||
          (r.score === best.score && (rule.priority > best.priority || (rule.priority === best.priority && LEVELS.indexOf(r.level) < LEVELS.indexOf(best.level))));
        if (better) best = { score: r.score, level: r.level, category: rule.category, priority: rule.priority };
      } else if (r.matched) bestUnlevelled = Math.max(bestUnlevelled, r.score);
    });

    const b = best as { score: number; level: Level; category: string } | null;
    return {
      risk: b !== null,
      level: b?.level ?? null,
      category: b?.category ?? null,
      score: b?.score ?? bestUnlevelled,
      hits,
      explanation,
    };
  }

  private evaluateRule(
    rule: RuleSpec,
    ri: number,
    spans: RuleSpan[],
    cues: CueSpan[],
    text: string,
    headEnd: number,
    kind: ItemKind | undefined,
    sourceWeight: number,
    active: CalendarPeriod[],
    focusPresent: Set<string>,
  ): RuleEvaluation {
    const negatedSpans = new Map<RuleSpan, string>();
    const excludedBy: string[] = [];
    const topicExcludedBy: string[] = [];
    let found: RuleSpan[] = [];
    for (const s of spans) {
      const cue = findCue(s, cues, ri, rule.negationWindow, text, spans);
      if (s.role === 'unless') {
        // 「并非谣言」「不是演练」: a negated exclusion is an assertion that the event is real.
        if (cue) negatedSpans.set(s, cue);
        else if (!s.topic) excludedBy.push(s.term);
        else if (s.start < headEnd) topicExcludedBy.push(s.term);
        continue;
      }
      if (cue) negatedSpans.set(s, cue);
      else found.push(s);
    }
    // Generic words need their context group nearby (「翻新」 near a food, not in 「翻新机」).
    const unmetContext: { term: string; start: number; needs: string[] }[] = [];
    if (rule.groups.some((g) => g.context)) {
      const byName = new Map(rule.groups.map((g, gi) => [g.name, gi]));
      found = found.filter((s) => {
        const ctx = rule.groups[s.group]!.context;
        if (!ctx || (ctx.terms && !ctx.terms.some((t) => t.toLowerCase() === s.term.toLowerCase()))) return true;
        const want = new Set(ctx.groups.map((g) => byName.get(g)));
        const ok = found.some((o) => want.has(o.group) && Math.max(0, o.start - s.end, s.start - o.end) <= ctx.within);
        if (!ok) unmetContext.push({ term: s.term, start: s.start, needs: ctx.groups.map((g) => rule.groups[byName.get(g)!]!.label) });
        return ok;
      });
    }
    const positives = found;

    const groupTerms = rule.groups.map(() => new Map<string, number>());
    for (const s of positives) groupTerms[s.group]!.set(s.term.toLowerCase(), s.weight);
    const groups: GroupScore[] = rule.groups.map((g, gi) => {
      const terms = groupTerms[gi]!;
      return { group: g.name, label: g.label, weight: g.weight, score: round2(groupScore([...terms.values()])), terms: [...terms.keys()] };
    });
    const present = new Set(groups.filter((g) => g.terms.length > 0).map((g) => g.group));

    const { positive } = this.polarity[ri]!;
    const anywhere = evaluateWhen(rule.when, (g) => present.has(g));
    let window: { start: number; end: number } | null = null;
    let whenOk = anywhere;
    if (anywhere && rule.near !== undefined) {
      window = findWindow(rule, positives, positive, present, rule.near);
      whenOk = window !== null;
    }

    // Strong evidence (several people ill) outweighs a topic word: a parent asking for the 食谱 is still reporting an outbreak.
    const overridden = topicExcludedBy.length > 0 && rule.override !== undefined && evaluateWhen(rule.override, (g) => present.has(g));
    if (!overridden) excludedBy.push(...topicExcludedBy);
    const excluded = excludedBy.length > 0;
    const matched = whenOk && !excluded;
    const base = Math.max(0, round2(groups.reduce((a, g) => a + g.score, 0)));
    const kindWeight = kind ? rule.kindWeights[kind] ?? 1 : 1;
    const calendar = calendarBoost(active, rule.category, focusPresent);
    const finalScore = round2(base * kindWeight * sourceWeight * calendar.factor);
    const level = matched ? levelFor(finalScore, rule.levels) : null;
    return {
      matched,
      whenOk,
      anywhere,
      excluded,
      excludedBy: [...new Set(excludedBy)],
      overriddenExclusions: overridden ? [...new Set(topicExcludedBy)] : [],
      unmetContext,
      negated: [...negatedSpans].map(([s, cue]) => ({ term: s.term, cue, start: s.start })),
      negatedSpans,
      groups,
      window,
      base,
      kindWeight,
      kind: kind ?? null,
      sourceWeight,
      calendar,
      score: matched ? finalScore : 0,
      potential: finalScore,
      level,
      whenText: formatWhen(rule.when),
    };
  }
}

export interface RuleEvaluation {
  matched: boolean;
  /** The `when` expression held (within `near` when set). */
  whenOk: boolean;
  /** The `when` expression held over the whole text, ignoring `near`. */
  anywhere: boolean;
  excluded: boolean;
  excludedBy: string[];
  /** Topic exclusions ignored because the rule's `override` held. */
  overriddenExclusions: string[];
  /** Generic terms not counted because their context group was not nearby. */
  unmetContext: { term: string; start: number; needs: string[] }[];
  negated: { term: string; cue: string; start: number }[];
  negatedSpans: Map<object, string>;
  groups: GroupScore[];
  window: { start: number; end: number } | null;
  base: number;
  kindWeight: number;
  kind: ItemKind | null;
  sourceWeight: number;
  calendar: CalendarBoost;
  score: number;
  /** What the rule would have scored had it matched. */
  potential: number;
  level: Level | null;
  whenText: string;
}

/** The negation cue that reaches `s`, if any: within `window` chars before it, same clause. */
function findCue(s: RuleSpan, cues: CueSpan[], ri: number, window: number, text: string, ruleSpans: RuleSpan[]): string | null {
  if (window <= 0 || cues.length === 0) return null;
  // cues are non-overlapping and sorted, so ends are sorted too: binary search the last ending ≤ s.start.
  let lo = 0;
  let hi = cues.length - 1;
  let idx = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid]!.end <= s.start) {
      idx = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let i = idx; i >= 0; i--) {
    const c = cues[i]!;
    if (s.start - c.end > window) break;
    if (c.rule !== -1 && c.rule !== ri) continue;
    if (CLAUSE_END.test(text.slice(c.end, s.start))) break;
    // A cue inside a longer term of this rule (「没有健康证」 holds 「没有」) is part of that term.
    // A rule that lists the cue as its own term (「没有」 in 三防设施) reads it as evidence, not negation.
    if (ruleSpans.some((r) => r.start <= c.start && c.end <= r.end)) continue;
    return c.term;
  }
  return null;
}

/**
 * The first span of at most `near` characters where the `when` expression holds, using only hits
 * inside the span for groups that must be present (groups under `not` are judged on the whole text).
 */
function findWindow(rule: RuleSpec, positives: RuleSpan[], required: Set<string>, present: Set<string>, near: number): { start: number; end: number } | null {
  const hits = positives.filter((s) => required.has(rule.groups[s.group]!.name));
  const counts = new Map<string, number>();
  const has = (g: string, underNot: boolean): boolean => (underNot ? present.has(g) : (counts.get(g) ?? 0) > 0);
  let j = 0;
  for (let i = 0; i < hits.length; i++) {
    if (j < i) j = i;
    while (j < hits.length && hits[j]!.end - hits[i]!.start <= near) {
      const g = rule.groups[hits[j]!.group]!.name;
      counts.set(g, (counts.get(g) ?? 0) + 1);
      j++;
    }
    if (evaluateWhen(rule.when, has)) return { start: hits[i]!.start, end: hits[Math.max(i, j - 1)]!.end };
    if (j > i) {
      const g = rule.groups[hits[i]!.group]!.name;
      counts.set(g, (counts.get(g) ?? 0) - 1);
    }
  }
  return null;
}

/** Loads rules/ and compiles one automaton over every term. Throws ConfigError naming file, line, field. */
export async function loadRuleEngine(dir: string, opts: { now?: () => Date } = {}): Promise<RuleEngine> {
  const set = await loadRuleSet(dir);
  return compileRuleEngine(set, opts);
}

/** Compiles an already-loaded rule set (tests build small sets in memory). */
export function compileRuleEngine(set: RuleSet, opts: { now?: () => Date } = {}): RuleEngine & { readonly set: RuleSet } {
  return new CompiledEngine(set, opts.now ?? (() => new Date()));
}

/** The loaded rule set behind an engine built here, for rule-file tests and dictionary export. */
export function ruleSetOf(engine: RuleEngine): RuleSet | null {
  return engine instanceof CompiledEngine ? engine.set : null;
}
