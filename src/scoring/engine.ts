import { LEVELS, type Hit, type ItemKind, type Level, type RuleExplanation } from '../core/types.ts';
import { loadRuleSet, type CalendarPeriod, type RuleSet, type RuleSpec } from '../config/rules.ts';
import { MatchBuffer, TermMatcher, leftmostLongest } from './matcher.ts';
import { compileWhen, formatWhen, whenGroups, type GroupPredicate } from './when.ts';
import { activePeriods, calendarBoost, type CalendarBoost } from './calendar.ts';
import { explainReason, type ExplainContext } from './explain.ts';

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

/**
 * How much of the reasoning a score carries. `full` (the CLI, rule tests, paste-and-score,
 * evaluation): an explanation and every hit for each rule that had a term in the text. `compact`
 * (the pipeline, for every stored item): explanations of the rules that matched — or, when none
 * did, of the one that came closest, so the desk can still say why an item did not alert — every
 * hit of a matched rule, and of the other evaluated rules one hit per distinct word (what trends count). The verdict
 * (risk, level, category, score) is the same in both; compact only drops reasoning that a
 * re-score rebuilds exactly, because scoring is a pure function of text and rules.
 */
export type ScoreDetail = 'full' | 'compact';
export interface ScoreOptions {
  detail?: ScoreDetail;
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
  score(input: ScoreInput, opts?: ScoreOptions): ScoreResult;
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

/**
 * Every term's payloads as columns (term t's are rows first[t] to first[t + 1]): the scoring loop
 * reads about 120 of them an item, and a column read beat a switch on each payload object's kind.
 * `group` holds a focus payload's period.
 */
interface PayloadTable {
  first: Int32Array;
  kind: Uint8Array;
  rule: Int32Array;
  group: Int32Array;
  weight: Float64Array;
  topic: Uint8Array;
}
const P_TERM = 0;
const P_UNLESS = 1;
const P_CUE = 2;
const P_NOTCUE = 3;
const P_FOCUS = 4;

function payloadTable(terms: number, payloadsOf: (t: number) => readonly Payload[]): PayloadTable {
  let rows = 0;
  for (let t = 0; t < terms; t++) rows += payloadsOf(t).length;
  const table: PayloadTable = {
    first: new Int32Array(terms + 1),
    kind: new Uint8Array(rows),
    rule: new Int32Array(rows).fill(-1),
    group: new Int32Array(rows).fill(-1),
    weight: new Float64Array(rows),
    topic: new Uint8Array(rows),
  };
  let q = 0;
  for (let t = 0; t < terms; t++) {
    table.first[t] = q;
    for (const p of payloadsOf(t)) {
      switch (p.kind) {
        case 'term':
          table.kind[q] = P_TERM;
          table.rule[q] = p.rule;
          table.group[q] = p.group;
          table.weight[q] = p.weight;
          break;
        case 'unless':
          table.kind[q] = P_UNLESS;
          table.rule[q] = p.rule;
          table.topic[q] = p.topic ? 1 : 0;
          break;
        case 'cue':
          table.kind[q] = P_CUE;
          table.rule[q] = p.rule;
          break;
        case 'notcue':
          table.kind[q] = P_NOTCUE;
          break;
        case 'focus':
          table.kind[q] = P_FOCUS;
          table.group[q] = p.period;
          break;
      }
      q++;
    }
  }
  table.first[terms] = q;
  return table;
}

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
  topic: boolean;
  /** The term lower-cased, as a number: what counts a group's distinct words. */
  lid: number;
  /** The matcher's term index when the text wrote the term exactly as listed (not in other ASCII case), else -1. */
  tid: number;
  /** The verdict stamp that found this span negated (spans are pooled, see Scratch.spans). */
  mark: number;
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
const CLAUSE_END = new Set([...'，,。.！!？?；;\n'].map((c) => c.charCodeAt(0)));

function hasClauseEnd(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (CLAUSE_END.has(text.charCodeAt(i))) return true;
  return false;
}

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
  if (weights.length === 1) return weights[0]!;
  const sorted = [...weights].sort((a, b) => Math.abs(b) - Math.abs(a));
  const top = sorted[0]!;
  let s = top;
  for (let i = 1; i < sorted.length; i++) s += 0.25 * sorted[i]!;
  const cap = 1.5 * Math.abs(top);
  return Math.max(-cap, Math.min(cap, s));
}

/** groupScore over the `n` weights of a scratch array from `at`, sorting them in place (stably, as groupScore's copy is). */
function groupScoreOf(w: Float64Array, at: number, n: number): number {
  if (n === 0) return 0;
  if (n === 1) return w[at]!;
  const end = at + n;
  for (let i = at + 1; i < end; i++) {
    const x = w[i]!;
    let j = i - 1;
    while (j >= at && Math.abs(w[j]!) < Math.abs(x)) {
      w[j + 1] = w[j]!;
      j--;
    }
    w[j + 1] = x;
  }
  const top = w[at]!;
  let s = top;
  for (let i = at + 1; i < end; i++) s += 0.25 * w[i]!;
  const cap = 1.5 * Math.abs(top);
  return Math.max(-cap, Math.min(cap, s));
}

/** What the engine precomputes per rule so that scoring an item allocates only for rules it touches. */
interface CompiledRule {
  spec: RuleSpec;
  index: number;
  whenText: string;
  groupNames: string[];
  /** Per group: the groups whose terms must be near (context), or null; and the terms it applies to (lower-cased) or null for all. */
  contextGroups: (Set<number> | null)[];
  contextTerms: (Set<number> | null)[];
  contextWithin: number[];
  contextLabels: string[][];
  when: GroupPredicate;
  override: GroupPredicate | null;
  /** Per group: 1 when `when` needs it present (it must then co-occur within `near`). */
  positiveGroup: Uint8Array;
  /** Scratch buffers reused by every verdict (scoring is synchronous, so never shared by two). */
  present: Uint8Array;
  near: Uint8Array;
  counts: Int32Array;
  /** Per group and one more: where the group's weights start in the verdict's scratch list. */
  from: Int32Array;
}

/** What every rule evaluation of one item shares. */
interface ItemContext {
  cues: CueSpan[];
  text: string;
  headEnd: number;
  kind: ItemKind | undefined;
  sourceWeight: number;
  active: CalendarPeriod[];
  focusPresent: ReadonlySet<string>;
  /** What an explanation says about the scanned length. */
  truncated: boolean;
  scanned: number;
  length: number;
}

/** What scoring needs of a rule that will not be explained; the spans a cue negated carry the verdict's stamp. */
interface Verdict {
  matched: boolean;
  score: number;
  potential: number;
  level: Level | null;
}

/**
 * Buffers one engine reuses from item to item, so that the compact path allocates little beyond
 * its output: the match columns, pooled spans, per-rule span lists and the verdict's working lists.
 * Scoring is synchronous, so one item at a time uses them.
 */
class Scratch {
  readonly matches = new MatchBuffer();
  readonly spans: RuleSpan[] = [];
  readonly common: RuleSpan[] = [];
  readonly withTerm: number[] = [];
  readonly merged: RuleSpan[] = [];
  readonly found: RuleSpan[] = [];
  readonly kept: RuleSpan[] = [];
  readonly window: RuleSpan[] = [];
  /** Distinct (group, word) pairs of one verdict, with the word's weight, in first-seen order. */
  pairGroup = new Int32Array(64);
  pairWord = new Int32Array(64);
  pairWeight = new Float64Array(64);
  weights = new Float64Array(64);
  readonly verdict: Verdict = { matched: false, score: 0, potential: 0, level: null };
  /** Per rule: the item generation that last reset its list, and whether a term (not only an exclusion) of it occurred. */
  readonly touched: Uint32Array;
  readonly hasTerm: Uint8Array;
  readonly own: RuleSpan[][];
  generation = 0;
  stamp = 0;
  /** Per matcher term, for hits of unmatched rules: the item generation and 1 (seen plain) | 2 (seen negated). */
  readonly seenAt: Uint32Array;
  readonly seenAs: Uint8Array;

  /** Per lower-cased word: the verdict stamp that last gave it a pair, and that pair's index. */
  readonly pairStamp: Float64Array;
  readonly pairAt: Int32Array;

  constructor(rules: number, terms: number, words: number) {
    this.pairStamp = new Float64Array(words);
    this.pairAt = new Int32Array(words);
    this.seenAt = new Uint32Array(terms);
    this.seenAs = new Uint8Array(terms);
    this.touched = new Uint32Array(rules);
    this.hasTerm = new Uint8Array(rules);
    this.own = Array.from({ length: rules }, () => []);
  }

  /** The next item's generation; the stamped arrays restart when it would leave 32 bits. */
  nextGeneration(): number {
    if (this.generation === 0xffffffff) {
      this.generation = 0;
      this.touched.fill(0);
      this.seenAt.fill(0);
    }
    return ++this.generation;
  }

  span(i: number): RuleSpan {
    return (this.spans[i] ??= { start: 0, end: 0, term: '', role: 'term', group: -1, weight: 0, topic: false, lid: 0, tid: -1, mark: 0 });
  }

  pairs(n: number): void {
    if (this.pairGroup.length >= n) return;
    let size = this.pairGroup.length;
    while (size < n) size *= 2;
    this.pairGroup = new Int32Array(size);
    this.pairWord = new Int32Array(size);
    this.pairWeight = new Float64Array(size);
    this.weights = new Float64Array(size);
  }
}

/** `lidOf`: a lower-cased word's number among the matcher's terms (a context term is one of its group's terms). */
function compileRule(spec: RuleSpec, index: number, lidOf: (lower: string) => number | undefined): CompiledRule {
  const byName = new Map(spec.groups.map((g, gi) => [g.name, gi]));
  const positive = whenGroups(spec.when).positive;
  return {
    spec,
    index,
    whenText: formatWhen(spec.when),
    groupNames: spec.groups.map((g) => g.name),
    contextGroups: spec.groups.map((g) => (g.context ? new Set(g.context.groups.map((n) => byName.get(n)!)) : null)),
    contextTerms: spec.groups.map((g) =>
      g.context?.terms ? new Set(g.context.terms.flatMap((t) => lidOf(t.toLowerCase()) ?? [])) : null,
    ),
    contextWithin: spec.groups.map((g) => g.context?.within ?? 0),
    contextLabels: spec.groups.map((g) => (g.context ? g.context.groups.map((n) => spec.groups[byName.get(n)!]!.label) : [])),
    when: compileWhen(spec.when, byName),
    override: spec.override ? compileWhen(spec.override, byName) : null,
    positiveGroup: Uint8Array.from(spec.groups, (g) => (positive.has(g.name) ? 1 : 0)),
    present: new Uint8Array(spec.groups.length),
    near: new Uint8Array(spec.groups.length),
    counts: new Int32Array(spec.groups.length),
    from: new Int32Array(spec.groups.length + 1),
  };
}

class CompiledEngine implements RuleEngine {
  readonly rules: readonly { id: string; name: string; category: string }[];
  readonly terms: readonly string[];
  readonly dir: string;
  readonly loadedAt: string;
  private readonly matcher: TermMatcher<Payload>;
  private readonly compiled: CompiledRule[];
  /** Per matcher term: its lower-cased form's number (two terms differing only in case share one). */
  private readonly lowerId: Int32Array;
  /** Per matcher term: 1 when it holds no ASCII letter, so the text can only have written it exactly as listed. */
  private readonly caseless: Uint8Array;
  private readonly keys: readonly string[];
  private readonly payloads: PayloadTable;
  private readonly scratch: Scratch;

  constructor(
    readonly set: RuleSet,
    private readonly now: () => Date,
  ) {
    this.dir = set.dir;
    this.loadedAt = now().toISOString();
    this.rules = set.rules.map((r) => ({ id: r.id, name: r.name, category: r.category }));

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
    this.keys = this.matcher.keys;
    this.payloads = payloadTable(this.keys.length, (t) => this.matcher.payloadsOf(t));
    const lower = new Map<string, number>();
    this.lowerId = Int32Array.from(this.keys, (k) => {
      const l = k.toLowerCase();
      let id = lower.get(l);
      if (id === undefined) lower.set(l, (id = lower.size));
      return id;
    });
    this.caseless = Uint8Array.from(this.keys, (k) => (/[a-z]/.test(k) ? 0 : 1));
    this.compiled = set.rules.map((r, ri) => compileRule(r, ri, (l) => lower.get(l)));
    this.scratch = new Scratch(set.rules.length, this.keys.length, lower.size);
  }

  score(input: ScoreInput, opts: ScoreOptions = {}): ScoreResult {
    const compact = opts.detail === 'compact';
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

    // Sparse: only rules the text touches get a span list, so the cost follows the hits, not the rule count.
    const sc = this.scratch;
    const generation = sc.nextGeneration();
    const n = this.matcher.collect(text, sc.matches);
    const { term: mTerm, start: mStart, end: mEnd, order } = sc.matches;
    const withTerm = sc.withTerm;
    withTerm.length = 0;
    // Common exclusions are kept once and merged into each evaluated rule's spans.
    const common = sc.common;
    common.length = 0;
    const cueCandidates: CueSpan[] = [];
    let focusPresent: Set<string> | null = null;
    let pooled = 0;
    for (let k = 0; k < n; k++) {
      const m = order[k]!;
      const t = mTerm[m]!;
      const start = mStart[m]!;
      const end = mEnd[m]!;
      // A term without ASCII letters matched exactly as listed: its hits share the listed string
      // instead of a slice per occurrence (about 50 an item, most of them kept in the hits).
      let term: string;
      let tid: number;
      if (this.caseless[t] === 1) {
        term = this.keys[t]!;
        tid = t;
      } else {
        term = text.slice(start, end);
        tid = term === this.keys[t] ? t : -1;
      }
      const pay = this.payloads;
      for (let q = pay.first[t]!, last = pay.first[t + 1]!; q < last; q++) {
        const kindCode = pay.kind[q]!;
        const rule = pay.rule[q]!;
        if (kindCode === P_TERM || kindCode === P_UNLESS) {
          const span = sc.span(pooled++);
          span.start = start;
          span.end = end;
          span.term = term;
          span.lid = this.lowerId[t]!;
          span.tid = tid;
          span.mark = 0;
          if (kindCode === P_TERM) {
            span.role = 'term';
            span.group = pay.group[q]!;
            span.weight = pay.weight[q]!;
            span.topic = false;
          } else {
            span.role = 'unless';
            span.group = -1;
            span.weight = 0;
            span.topic = pay.topic[q] === 1;
          }
          if (rule < 0) {
            common.push(span);
            continue;
          }
          const list = sc.own[rule]!;
          if (sc.touched[rule] !== generation) {
            sc.touched[rule] = generation;
            sc.hasTerm[rule] = 0;
            list.length = 0;
          }
          if (kindCode === P_TERM && sc.hasTerm[rule] === 0) {
            sc.hasTerm[rule] = 1;
            withTerm.push(rule);
          }
          list.push(span);
        } else if (kindCode === P_CUE) {
          cueCandidates.push({ start, end, term, rule, real: true });
        } else if (kindCode === P_NOTCUE) {
          cueCandidates.push({ start, end, term, rule: -1, real: false });
        } else {
          const period = this.set.calendar.periods[pay.group[q]!];
          if (period && active.includes(period)) (focusPresent ??= new Set()).add(period.name);
        }
      }
    }
    // 「没多久」 outranks the cue 「没」 inside it, then only real cues remain.
    const cues = cueCandidates.length ? leftmostLongest(cueCandidates).filter((c) => c.real) : [];
    // The head of a text is its title plus the first characters of the body: where a text says what it is about.
    const title = typeof input?.title === 'string' ? input.title : '';
    const titleEnd = title && text.startsWith(title) ? title.length + 1 : 0;
    const headEnd = titleEnd + this.set.common.unlessTopic.head;
    const ctx: ItemContext = { cues, text, headEnd, kind, sourceWeight, active, focusPresent: focusPresent ?? NO_FOCUS, truncated, scanned: text.length, length: full.length };

    const hits: Hit[] = [];
    const explanation: RuleExplanation[] = [];
    let best: { score: number; level: Level; category: string; priority: number } | null = null;
    let bestUnlevelled = 0;
    let closest = -1;
    let closestPotential = 0;
    // word → 1 (seen plain) | 2 (seen negated), so trends get each word once per polarity: by term
    // index when written as listed, by the word itself for other ASCII case (rare).
    let seenTerms: Map<string, number> | null = null;
    const { seenAt, seenAs } = sc;
    const explain = (rule: CompiledRule, r: ExplainContext) => explanation.push(explainReason(rule.spec, r));

    // A rule none of whose own terms occurs cannot match: a shared exclusion word alone (宣传,
    // 科普…) must not make every rule evaluate and explain itself. Rule order keeps explanations stable.
    sortSmall(withTerm);
    for (const ri of withTerm) {
      const rule = this.compiled[ri]!;
      const spans = leftmostLongestSorted(sc.own[ri]!, common, sc.merged);
      if (spans.length === 0) continue;
      // The full evaluation (with everything an explanation shows) only where it will be explained;
      // elsewhere the allocation-free verdict, which a property test holds equal to it.
      const evaluated = compact ? null : this.evaluateRule(rule, spans.slice(), ctx);
      const stamp = ++sc.stamp;
      const v: Verdict = evaluated ?? this.verdict(rule, spans, ctx, stamp);
      const matched = v.matched;
      const score = v.score;
      const level = v.level;
      const potential = v.potential;
      for (const s of spans) {
        if (hits.length >= maxHits) break;
        const isNegated = evaluated ? evaluated.negatedSpans.has(s) : s.mark === stamp;
        if (compact && !matched) {
          // Unmatched rules only tell trends which words occurred: one hit per distinct word is enough.
          const bit = isNegated ? 2 : 1;
          const tid = s.tid;
          if (tid >= 0) {
            const seen = seenAt[tid] === generation ? seenAs[tid]! : 0;
            if (seen & bit) continue;
            seenAt[tid] = generation;
            seenAs[tid] = seen | bit;
          } else {
            const seen = (seenTerms ??= new Map()).get(s.term) ?? 0;
            if (seen & bit) continue;
            seenTerms.set(s.term, seen | bit);
          }
        }
        hits.push({
          rule: rule.spec.id,
          group: s.role === 'unless' ? 'unless' : rule.groupNames[s.group]!,
          term: s.term,
          start: s.start,
          end: s.end,
          weight: s.weight,
          negated: isNegated,
        });
      }
      if (evaluated) explain(rule, evaluated);
      else if (matched) explain(rule, this.evaluateRule(rule, spans.slice(), ctx));
      else if (closest < 0 || potential > closestPotential) {
        closest = ri;
        closestPotential = potential;
      }
      if (matched && level) {
        const spec = rule.spec;
        const better =
          !best ||
          score > best.score ||
          (score === best.score && (spec.priority > best.priority || (spec.priority === best.priority && LEVELS.indexOf(level) < LEVELS.indexOf(best.level))));
        if (better) best = { score, level, category: spec.category, priority: spec.priority };
      } else if (matched) bestUnlevelled = Math.max(bestUnlevelled, score);
    }
    if (closest >= 0 && explanation.length === 0) {
      const rule = this.compiled[closest]!;
      explain(rule, this.evaluateRule(rule, leftmostLongestSorted(sc.own[closest]!, common, []), ctx));
    }

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

  /**
   * evaluateRule's verdict without its explanation details; must agree with it exactly
   * (test/scoring/verdict.test.ts). Allocates nothing: the spans a cue negates get `stamp`, and
   * the answer is the scratch verdict, valid until the next call.
   */
  private verdict(
    rule: CompiledRule,
    spans: RuleSpan[],
    { cues, text, headEnd, kind, sourceWeight, active, focusPresent }: ItemContext,
    stamp: number,
  ): Verdict {
    const spec = rule.spec;
    const sc = this.scratch;
    let excluded = false;
    let topicExcluded = false;
    let found = sc.found;
    found.length = 0;
    let needsContext = false;
    for (const s of spans) {
      if (findCue(s, cues, rule.index, spec.negationWindow, text, spans)) {
        s.mark = stamp;
        continue;
      }
      if (s.role === 'unless') {
        if (!s.topic) excluded = true;
        else if (s.start < headEnd) topicExcluded = true;
        continue;
      }
      found.push(s);
      if (rule.contextGroups[s.group]) needsContext = true;
    }
    if (needsContext) {
      const all = found;
      found = sc.kept;
      found.length = 0;
      for (const s of all) {
        const want = rule.contextGroups[s.group];
        const only = rule.contextTerms[s.group];
        if (!want || (only && !only.has(s.lid))) {
          found.push(s);
          continue;
        }
        const within = rule.contextWithin[s.group]!;
        for (const o of all) {
          if (want.has(o.group) && Math.max(0, o.start - s.end, s.start - o.end) <= within) {
            found.push(s);
            break;
          }
        }
      }
    }

    // A group's distinct words (lower-cased), each with the weight it was last seen with.
    const nGroups = spec.groups.length;
    const present = rule.present.fill(0);
    sc.pairs(found.length);
    const { pairGroup, pairWord, pairWeight, weights } = sc;
    // A word's first pair in this verdict is found through the word's stamp, not by searching the
    // pairs: a rule with many hits made that search quadratic. One word in two groups, which rule
    // files reject but a set built in memory may hold, is the only case that searches.
    const { pairAt, pairStamp } = sc;
    let pairs = 0;
    for (const s of found) {
      const lid = s.lid;
      let j: number;
      if (pairStamp[lid] !== stamp) {
        pairStamp[lid] = stamp;
        pairAt[lid] = j = pairs;
      } else {
        j = pairAt[lid]!;
        if (pairGroup[j] !== s.group) {
          j = 0;
          while (j < pairs && (pairGroup[j] !== s.group || pairWord[j] !== lid)) j++;
        }
      }
      if (j === pairs) {
        pairGroup[j] = s.group;
        pairWord[j] = lid;
        pairs++;
      }
      pairWeight[j] = s.weight;
      present[s.group] = 1;
    }
    // Each group's weights, in first-seen order, laid out group after group (a counting sort).
    const from = rule.from.fill(0);
    for (let j = 0; j < pairs; j++) from[pairGroup[j]! + 1]++;
    for (let gi = 0; gi < nGroups; gi++) from[gi + 1] += from[gi]!;
    const fill = rule.counts;
    for (let gi = 0; gi < nGroups; gi++) fill[gi] = from[gi]!;
    for (let j = 0; j < pairs; j++) weights[fill[pairGroup[j]!]!++] = pairWeight[j]!;
    let sum = 0;
    for (let gi = 0; gi < nGroups; gi++) {
      if (present[gi] === 0) continue;
      sum += round2(groupScoreOf(weights, from[gi]!, from[gi + 1]! - from[gi]!));
    }

    const anywhere = rule.when(present, present);
    let whenOk = anywhere;
    if (anywhere && spec.near !== undefined) whenOk = windowStart(rule, found, present, spec.near, sc.window) >= 0;
    const overridden = topicExcluded && rule.override !== null && rule.override(present, present);
    const matched = whenOk && !excluded && !(topicExcluded && !overridden);
    const base = Math.max(0, round2(sum));
    const kindWeight = kind ? spec.kindWeights[kind] ?? 1 : 1;
    const factor = active.length ? calendarBoost(active, spec.category, focusPresent).factor : 1;
    const finalScore = round2(base * kindWeight * sourceWeight * factor);
    const v = sc.verdict;
    v.matched = matched;
    v.score = matched ? finalScore : 0;
    v.potential = finalScore;
    v.level = matched ? levelFor(finalScore, spec.levels) : null;
    return v;
  }

  private evaluateRule(
    rule: CompiledRule,
    spans: RuleSpan[],
    { cues, text, headEnd, kind, sourceWeight, active, focusPresent, truncated, scanned, length }: ItemContext,
  ): ExplainContext {
    const spec = rule.spec;
    const negatedSpans = new Map<RuleSpan, string>();
    const excludedBy: string[] = [];
    const topicExcludedBy: string[] = [];
    let found: RuleSpan[] = [];
    for (const s of spans) {
      const cue = findCue(s, cues, rule.index, spec.negationWindow, text, spans);
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
    if (found.some((s) => rule.contextGroups[s.group])) {
      const all = found;
      found = all.filter((s) => {
        const want = rule.contextGroups[s.group];
        const only = rule.contextTerms[s.group];
        if (!want || (only && !only.has(s.lid))) return true;
        const within = rule.contextWithin[s.group]!;
        const ok = all.some((o) => want.has(o.group) && Math.max(0, o.start - s.end, s.start - o.end) <= within);
        if (!ok) unmetContext.push({ term: s.term, start: s.start, needs: rule.contextLabels[s.group]! });
        return ok;
      });
    }
    const positives = found;

    const groupTerms: (Map<string, number> | undefined)[] = new Array(spec.groups.length);
    const present = rule.present.fill(0);
    for (const s of positives) {
      const m = (groupTerms[s.group] ??= new Map());
      m.set(s.term.toLowerCase(), s.weight);
      present[s.group] = 1;
    }
    const groups: GroupScore[] = spec.groups.map((g, gi) => {
      const terms = groupTerms[gi];
      return terms
        ? { group: g.name, label: g.label, weight: g.weight, score: round2(groupScore([...terms.values()])), terms: [...terms.keys()] }
        : { group: g.name, label: g.label, weight: g.weight, score: 0, terms: [] };
    });

    const anywhere = rule.when(present, present);
    let window: { start: number; end: number } | null = null;
    let whenOk = anywhere;
    if (anywhere && spec.near !== undefined) {
      window = findWindow(rule, positives, present, spec.near);
      whenOk = window !== null;
    }

    // Strong evidence (several people ill) outweighs a topic word: a parent asking for the 食谱 is still reporting an outbreak.
    const overridden = topicExcludedBy.length > 0 && rule.override !== null && rule.override(present, present);
    if (!overridden) excludedBy.push(...topicExcludedBy);
    const excluded = excludedBy.length > 0;
    const matched = whenOk && !excluded;
    let sum = 0;
    for (const g of groups) sum += g.score;
    const base = Math.max(0, round2(sum));
    const kindWeight = kind ? spec.kindWeights[kind] ?? 1 : 1;
    const calendar = active.length ? calendarBoost(active, spec.category, focusPresent) : NO_BOOST;
    const finalScore = round2(base * kindWeight * sourceWeight * calendar.factor);
    const level = matched ? levelFor(finalScore, spec.levels) : null;
    return {
      matched,
      whenOk,
      anywhere,
      excluded,
      excludedBy: excludedBy.length > 1 ? [...new Set(excludedBy)] : excludedBy,
      overriddenExclusions: overridden ? [...new Set(topicExcludedBy)] : [],
      unmetContext,
      negated: negatedSpans.size ? [...negatedSpans].map(([s, cue]) => ({ term: s.term, cue, start: s.start })) : [],
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
      whenText: rule.whenText,
      truncated,
      scanned,
      length,
    };
  }
}

const NO_FOCUS: ReadonlySet<string> = new Set();
const NO_BOOST: CalendarBoost = Object.freeze({ factor: 1, applied: [] }) as CalendarBoost;

/** Sorts a short list of rule indices in place (insertion sort: a comparator call per step cost more than the sort). */
function sortSmall(a: number[]): void {
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}

/**
 * leftmostLongest over two lists each already ordered by start then longest (the matcher's
 * order), without copying or sorting: on a tie the rule's own span comes first, as its payload
 * was registered first.
 */
function leftmostLongestSorted(own: readonly RuleSpan[], common: readonly RuleSpan[], kept: RuleSpan[]): RuleSpan[] {
  kept.length = 0;
  let lastEnd = -1;
  let i = 0;
  let j = 0;
  while (i < own.length || j < common.length) {
    const a = own[i];
    const b = common[j];
    let s: RuleSpan;
    if (a && (!b || a.start < b.start || (a.start === b.start && a.end >= b.end))) {
      s = a;
      i++;
    } else {
      s = b!;
      j++;
    }
    if (s.start >= lastEnd) {
      kept.push(s);
      lastEnd = s.end;
    }
  }
  return kept;
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
    if (hasClauseEnd(text, c.end, s.start)) break;
    // A cue inside a longer term of this rule (「没有健康证」 holds 「没有」) is part of that term.
    // A rule that lists the cue as its own term (「没有」 in 三防设施) reads it as evidence, not negation.
    if (insideSpan(ruleSpans, c.start, c.end)) continue;
    return c.term;
  }
  return null;
}

/**
 * Where the first span of at most `near` characters starts in which the `when` expression holds,
 * as an index into `hits` (filled here with the positives of groups `when` needs present), or -1.
 * Groups under `not` are judged on the whole text (`present`). Allocates nothing but `hits`.
 */
function windowStart(rule: CompiledRule, positives: RuleSpan[], present: Uint8Array, near: number, hits: RuleSpan[]): number {
  const counts = rule.counts.fill(0);
  const win = rule.near.fill(0);
  hits.length = 0;
  for (const s of positives) if (rule.positiveGroup[s.group] === 1) hits.push(s);
  let j = 0;
  for (let i = 0; i < hits.length; i++) {
    if (j < i) j = i;
    while (j < hits.length && hits[j]!.end - hits[i]!.start <= near) {
      const g = hits[j]!.group;
      if (++counts[g]! > 0) win[g] = 1;
      j++;
    }
    if (rule.when(present, win)) return i;
    if (j > i) {
      const g = hits[i]!.group;
      if (--counts[g]! <= 0) win[g] = 0;
    }
  }
  return -1;
}

/** Whether [start, end) lies inside one of `spans` (sorted by start, not overlapping: leftmostLongest's output). */
function insideSpan(spans: readonly RuleSpan[], start: number, end: number): boolean {
  let lo = 0;
  let hi = spans.length - 1;
  let idx = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.start <= start) {
      idx = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return idx >= 0 && end <= spans[idx]!.end;
}

/** The first window windowStart finds, with its extent: from its first hit to the last within `near`. */
function findWindow(rule: CompiledRule, positives: RuleSpan[], present: Uint8Array, near: number): { start: number; end: number } | null {
  const hits: RuleSpan[] = [];
  const i = windowStart(rule, positives, present, near, hits);
  if (i < 0) return null;
  let last = i;
  while (last + 1 < hits.length && hits[last + 1]!.end - hits[i]!.start <= near) last++;
  return { start: hits[i]!.start, end: hits[last]!.end };
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
