import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { ItemKind, LEVELS, Level } from '../core/types.ts';
import { asciiLower, normalise } from '../text/normalise.ts';
import { parseWhen, whenGroups, WhenSyntaxError, type WhenExpr } from '../scoring/when.ts';

/**
 * The bureau's risk categories. Desk filters, trends and briefings share these exact strings, so a
 * rule naming anything else fails to load. Documented in rules/README.md.
 */
export const CATEGORIES = [
  '校园食品安全',
  '农村集体聚餐',
  '餐饮服务',
  '食品生产加工',
  '食品销售',
  '网络食品',
  '冷链食品',
  '粮食',
  '食用农产品',
  '保健食品',
  '特殊食品',
  '非法添加',
  '假冒伪劣过期',
  '抽检不合格',
  '食物中毒',
  '索票索证',
  '三防设施',
] as const;
export type Category = (typeof CATEGORIES)[number];
export const isCategory = (s: string): s is Category => (CATEGORIES as readonly string[]).includes(s);

// ---------------------------------------------------------------------------------------------
// Compiled shapes handed to the scoring engine.

export interface TermSpec {
  /** Normalised (simplified, half-width) term text. */
  term: string;
  weight: number;
}
export interface GroupSpec {
  name: string;
  label: string;
  weight: number;
  terms: TermSpec[];
  /**
   * Generic words (坏了, 翻新, 过期) count only when a term of one of these groups stands within
   * `within` characters: 「监控坏了」 is not spoiled food, 「牛奶坏了」 is.
   */
  context?: { groups: string[]; within: number; terms?: string[] };
}
export type LevelThresholds = Partial<Record<Level, number>>;
export type KindWeights = Record<ItemKind, number>;

export interface RuleTestCase {
  index: number;
  line: number;
  text: string;
  title?: string;
  kind: ItemKind;
  at?: string;
  sourceWeight?: number;
  expect: { match: boolean; level?: Level | null };
}

export interface RuleSpec {
  file: string;
  id: string;
  name: string;
  category: Category;
  description?: string;
  priority: number;
  groups: GroupSpec[];
  when: WhenExpr;
  whenSource: string;
  near?: number;
  unless: string[];
  /** Topic exclusions added to common.yaml `unless_topic.terms` (judged only at the head of the text). */
  unlessTopic: string[];
  /** When this holds over the present groups, topic exclusions are ignored (strong harm evidence). */
  override?: WhenExpr;
  overrideSource?: string;
  negatedBy: string[];
  negationWindow: number;
  kindWeights: KindWeights;
  levels: LevelThresholds;
  tests: RuleTestCase[];
}

export interface CommonSpec {
  file: string | null;
  negation: { window: number; cues: string[]; notCues: string[] };
  unless: string[];
  /**
   * Exclusions that say what a text is ABOUT (食谱, 回顾, 广告): they exclude only within the title
   * or the first `head` characters of the body, so a complaint that merely mentions 「食谱」 in
   * passing still counts.
   */
  unlessTopic: { head: number; terms: string[] };
  kindWeights: KindWeights;
  levels: LevelThresholds;
  limits: { scanChars: number; maxHits: number };
  vocab: Record<string, string[]>;
}

/** A date as month-day (every year) or a full date. */
export interface CalendarDate {
  year?: number;
  month: number;
  day: number;
}
export interface CalendarPeriod {
  name: string;
  ranges: { from: CalendarDate; to: CalendarDate }[];
  /** Category → multiplier; '*' applies to every category. */
  multipliers: Record<string, number>;
  focus?: { terms: string[]; multiplier: number };
}
export interface CalendarSpec {
  file: string | null;
  periods: CalendarPeriod[];
}

export interface RuleSet {
  dir: string;
  common: CommonSpec;
  calendar: CalendarSpec;
  rules: RuleSpec[];
}

// ---------------------------------------------------------------------------------------------
// Schemas. Every object is strict: a misspelt key is an error, never silently ignored.

const GROUP_NAME = /^[\p{L}_][\p{L}\p{N}_-]*$/u;
const RESERVED_GROUPS = new Set(['and', 'or', 'not', 'unless']);
const positive = z.number().positive();

const LevelsSchema = z.strictObject({ 红: z.number().optional(), 橙: z.number().optional(), 黄: z.number().optional(), 蓝: z.number().optional() });
const KindWeightsSchema = z.strictObject({ news: positive.optional(), complaint: positive.optional(), notice: positive.optional() });

const TermEntrySchema = z.union([z.string(), z.strictObject({ term: z.string(), weight: z.number() })]);
const GroupSchema = z.strictObject({
  label: z.string().optional(),
  any: z.array(TermEntrySchema).default([]),
  include: z.array(z.string()).default([]),
  weight: z.number(),
  context: z
    .strictObject({ groups: z.array(z.string()).min(1), within: z.number().int().positive().max(200), only: z.array(z.string()).min(1).optional() })
    .optional(),
});

const TestCaseSchema = z.strictObject({
  text: z.string(),
  title: z.string().optional(),
  kind: ItemKind.default('news'),
  at: z.string().optional(),
  source_weight: positive.optional(),
  expect: z.strictObject({ match: z.boolean(), level: Level.nullable().optional() }),
});

const RuleFileSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and hyphens'),
  name: z.string().min(1),
  category: z.string(),
  description: z.string().optional(),
  priority: z.number().int().default(0),
  terms: z.record(z.string(), GroupSchema),
  when: z.string().min(1),
  near: z.number().int().positive().optional(),
  unless: z.array(z.string()).default([]),
  unless_topic: z.array(z.string()).default([]),
  override: z.string().min(1).optional(),
  negated_by: z.array(z.string()).default([]),
  negation_window: z.number().int().min(0).max(100).optional(),
  kind_weights: KindWeightsSchema.optional(),
  levels: LevelsSchema.optional(),
  tests: z.array(TestCaseSchema).min(1, 'every rule file needs at least one test'),
});

const CommonSchema = z.strictObject({
  negation: z
    .strictObject({
      window: z.number().int().min(0).max(100).default(8),
      cues: z.array(z.string()).default([]),
      not_cues: z.array(z.string()).default([]),
    })
    .prefault({}),
  unless: z.array(z.string()).default([]),
  unless_topic: z
    .strictObject({ head: z.number().int().min(0).max(1000).default(30), terms: z.array(z.string()).default([]) })
    .prefault({}),
  kind_weights: KindWeightsSchema.prefault({}),
  levels: LevelsSchema.optional(),
  limits: z
    .strictObject({
      scan_chars: z.number().int().positive().default(20_000),
      max_hits: z.number().int().positive().default(500),
    })
    .prefault({}),
  vocab: z.record(z.string(), z.array(z.string())).default({}),
});

const DATE = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/;
const PeriodSchema = z.strictObject({
  name: z.string().min(1),
  dates: z.array(z.strictObject({ from: z.string(), to: z.string() })).min(1),
  multipliers: z.record(z.string(), positive).default({}),
  focus: z.strictObject({ terms: z.array(z.string()).min(1), multiplier: positive }).optional(),
});
const CalendarSchema = z.strictObject({ periods: z.array(PeriodSchema).default([]) });

const DEFAULT_LEVELS: LevelThresholds = { 红: 16, 橙: 11, 黄: 7, 蓝: 4 };
const DEFAULT_KIND_WEIGHTS: KindWeights = { news: 1, complaint: 1.2, notice: 1.1 };

// ---------------------------------------------------------------------------------------------
// YAML with positions.

type PathSeg = string | number;

/** A parsed YAML file that can say on which line any field sits. */
class YamlFile {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  static parse(file: string, source: string): YamlFile {
    const lines = new LineCounter();
    const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line ?? lines.linePos(err.pos[0]).line;
      throw new ConfigError(file, '', `invalid YAML: ${err.message.split('\n')[0]}`, line);
    }
    return new YamlFile(file, doc, lines);
  }

  data(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /** 1-based line of the deepest node on `path` (the key itself when `key` is set). */
  lineOf(pathSegs: readonly PathSeg[], key?: string): number | undefined {
    let node: unknown = this.doc.contents;
    let line = this.offsetLine(node);
    const segs = key === undefined ? pathSegs : [...pathSegs, key];
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyLine = this.offsetLine(pair.key);
        // For the last segment of an unknown key, the key's own line is the answer.
        if (i === segs.length - 1 && key !== undefined) return keyLine ?? line;
        node = pair.value;
        line = this.offsetLine(node) ?? keyLine ?? line;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        node = item;
        line = this.offsetLine(node) ?? line;
      } else break;
    }
    return line;
  }

  fail(pathSegs: readonly PathSeg[], problem: string, key?: string): ConfigError {
    const field = formatPath(key === undefined ? pathSegs : [...pathSegs, key]);
    return new ConfigError(this.file, field, problem, this.lineOf(pathSegs, key));
  }

  private offsetLine(node: unknown): number | undefined {
    const range = (node as Node | null | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : undefined;
  }
}

export function formatPath(segs: readonly PathSeg[]): string {
  let out = '';
  for (const s of segs) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): { problem: string; key?: string } {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected;
      const article = /^[aeiou]/.test(expected) ? 'an' : 'a';
      const got = (issue as { input?: unknown }).input;
      const received = got === undefined ? 'nothing' : Array.isArray(got) ? 'a list' : got === null ? 'null' : typeof got;
      return { problem: `expected ${article} ${expected === 'object' ? 'mapping' : expected === 'array' ? 'list' : expected}, got ${received}` };
    }
    case 'unrecognized_keys':
      return { problem: `unknown key '${issue.keys[0]}'`, key: issue.keys[0] };
    case 'invalid_value':
      return { problem: `expected one of ${issue.values.map((v) => String(v)).join(', ')}` };
    case 'invalid_union':
      return { problem: 'expected a term (text) or { term, weight }' };
    default:
      return { problem: issue.message };
  }
}

function validate<T extends z.ZodType>(y: YamlFile, schema: T, data: unknown): z.infer<T> {
  const parsed = schema.safeParse(data, { reportInput: true });
  if (parsed.success) return parsed.data;
  // A misspelt key also makes the real key look missing; the typo is the useful message.
  const issues = parsed.error.issues;
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const { problem, key } = describeIssue(issue);
  return throwErr(y.fail(issue.path as PathSeg[], problem, key));
}

function throwErr(e: Error): never {
  throw e;
}

// ---------------------------------------------------------------------------------------------
// Loading.

async function readYaml(file: string): Promise<YamlFile | null> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(file, '', `cannot read: ${(e as Error).message}`);
  }
  return YamlFile.parse(file, source);
}

function checkLevels(y: YamlFile, pathSegs: PathSeg[], levels: LevelThresholds): void {
  let prev: { level: Level; value: number } | undefined;
  for (const level of LEVELS) {
    const value = levels[level];
    if (value === undefined) continue;
    if (prev && !(value < prev.value)) {
      throw y.fail([...pathSegs, level], `thresholds must descend 红 > 橙 > 黄 > 蓝, but ${level} ${value} is not below ${prev.level} ${prev.value}`);
    }
    prev = { level, value };
  }
  if (!prev) throw y.fail(pathSegs, 'at least one level threshold is needed');
}

/** Normalises one term as the engine will see text; rejects terms that vanish or hold spaces. */
function cleanTerm(y: YamlFile, pathSegs: PathSeg[], raw: string): string {
  const term = normalise(raw);
  if (!term) throw y.fail(pathSegs, 'empty term');
  if (/\s/.test(term)) throw y.fail(pathSegs, `term '${raw}' contains whitespace (terms are single words for the segmenter)`);
  return term;
}

function cleanTerms(y: YamlFile, pathSegs: PathSeg[], raws: string[]): string[] {
  return [...new Set(raws.map((t, i) => cleanTerm(y, [...pathSegs, i], t)))];
}

function parseCommon(y: YamlFile | null): CommonSpec {
  const data = y ? validate(y, CommonSchema, y.data() ?? {}) : CommonSchema.parse({});
  const levels = data.levels ?? DEFAULT_LEVELS;
  if (y && data.levels) checkLevels(y, ['levels'], levels);
  const vocab: Record<string, string[]> = {};
  for (const [name, terms] of Object.entries(data.vocab)) {
    if (y) vocab[name] = cleanTerms(y, ['vocab', name], terms);
    else vocab[name] = terms;
  }
  const clean = (p: PathSeg[], list: string[]): string[] => (y ? cleanTerms(y, p, list) : list);
  return {
    file: y?.file ?? null,
    negation: {
      window: data.negation.window,
      cues: clean(['negation', 'cues'], data.negation.cues),
      notCues: clean(['negation', 'not_cues'], data.negation.not_cues),
    },
    unless: clean(['unless'], data.unless),
    unlessTopic: { head: data.unless_topic.head, terms: clean(['unless_topic', 'terms'], data.unless_topic.terms) },
    kindWeights: { ...DEFAULT_KIND_WEIGHTS, ...stripUndefined(data.kind_weights) },
    levels,
    limits: { scanChars: data.limits.scan_chars, maxHits: data.limits.max_hits },
    vocab,
  };
}

function parseDate(y: YamlFile, pathSegs: PathSeg[], s: string): CalendarDate {
  const m = DATE.exec(s);
  const bad = (): never => throwErr(y.fail(pathSegs, `expected a date as YYYY-MM-DD or MM-DD (every year), got '${s}'`));
  if (!m) return bad();
  const year = m[1] ? Number(m[1]) : undefined;
  const month = Number(m[2]);
  const day = Number(m[3]);
  const probe = new Date(Date.UTC(year ?? 2024, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCDate() !== day) return bad();
  return year === undefined ? { month, day } : { year, month, day };
}

function parseCalendar(y: YamlFile | null): CalendarSpec {
  if (!y) return { file: null, periods: [] };
  const data = validate(y, CalendarSchema, y.data() ?? {});
  const periods = data.periods.map((p, pi): CalendarPeriod => {
    const base: PathSeg[] = ['periods', pi];
    const ranges = p.dates.map((d, di) => {
      const from = parseDate(y, [...base, 'dates', di, 'from'], d.from);
      const to = parseDate(y, [...base, 'dates', di, 'to'], d.to);
      if ((from.year === undefined) !== (to.year === undefined)) {
        throw y.fail([...base, 'dates', di], 'from and to must both be full dates or both be month-day');
      }
      if (from.year !== undefined && dateKey(from) > dateKey(to)) {
        throw y.fail([...base, 'dates', di, 'to'], `ends before it starts (${d.from} … ${d.to})`);
      }
      return { from, to };
    });
    for (const cat of Object.keys(p.multipliers)) {
      if (cat !== '*' && !isCategory(cat)) throw y.fail([...base, 'multipliers'], `unknown category '${cat}'`, cat);
    }
    const focus = p.focus ? { terms: cleanTerms(y, [...base, 'focus', 'terms'], p.focus.terms), multiplier: p.focus.multiplier } : undefined;
    return { name: p.name, ranges, multipliers: p.multipliers, ...(focus ? { focus } : {}) };
  });
  return { file: y.file, periods };
}

export function dateKey(d: CalendarDate): number {
  return (d.year ?? 0) * 10000 + d.month * 100 + d.day;
}

function parseRule(y: YamlFile, common: CommonSpec): RuleSpec {
  const data = validate(y, RuleFileSchema, y.data());
  if (!isCategory(data.category)) {
    throw y.fail(['category'], `unknown category '${data.category}'; expected one of ${CATEGORIES.join('、')}`);
  }

  const groups: GroupSpec[] = [];
  const owner = new Map<string, { group: string; term: string }>();
  for (const [name, g] of Object.entries(data.terms)) {
    const base: PathSeg[] = ['terms', name];
    if (!GROUP_NAME.test(name) || RESERVED_GROUPS.has(name.toLowerCase())) {
      throw y.fail(['terms'], `'${name}' cannot name a group (letters, digits, _ and -; not and/or/not/unless)`, name);
    }
    const terms = new Map<string, number>();
    g.include.forEach((v, i) => {
      const list = common.vocab[v];
      if (!list) throw y.fail([...base, 'include', i], `unknown vocabulary '${v}'; common.yaml defines ${Object.keys(common.vocab).join(', ') || 'none'}`);
      for (const t of list) if (!terms.has(t)) terms.set(t, g.weight);
    });
    g.any.forEach((entry, i) => {
      const raw = typeof entry === 'string' ? entry : entry.term;
      const term = cleanTerm(y, [...base, 'any', i], raw);
      terms.set(term, typeof entry === 'string' ? g.weight : entry.weight);
    });
    if (terms.size === 0) throw y.fail(base, 'a group needs at least one term in any: or include:');
    // The matcher folds ASCII case, so 「APP订餐」 and 「App订餐」 are one word: in two groups, one
    // occurrence would count for only one of them.
    for (const term of terms.keys()) {
      const key = asciiLower(term);
      const other = owner.get(key);
      if (other !== undefined && other.group !== name) {
        const as = other.term === term ? '' : ` (as '${other.term}')`;
        throw y.fail(base, `term '${term}' is in both groups ${other.group}${as} and ${name}`);
      }
      owner.set(key, { group: name, term });
    }
    groups.push({
      name,
      label: g.label ?? name,
      weight: g.weight,
      terms: [...terms].map(([term, weight]) => ({ term, weight })),
      ...(g.context ? { context: { groups: g.context.groups, within: g.context.within, ...contextTerms(y, base, g.context.only, common) } } : {}),
    });
  }
  for (const [name, g] of Object.entries(data.terms)) {
    g.context?.groups.forEach((c, i) => {
      if (!data.terms[c]) throw y.fail(['terms', name, 'context', 'groups', i], `unknown group '${c}'; terms defines ${Object.keys(data.terms).join(', ')}`);
      if (c === name) throw y.fail(['terms', name, 'context', 'groups', i], 'a group cannot be its own context');
    });
  }

  let when: WhenExpr;
  try {
    when = parseWhen(data.when);
  } catch (e) {
    if (e instanceof WhenSyntaxError) throw y.fail(['when'], `${e.problem} in '${data.when}' at character ${e.at + 1}`);
    throw e;
  }
  const used = whenGroups(when);
  for (const g of [...used.positive, ...used.negative]) {
    if (!data.terms[g]) throw y.fail(['when'], `unknown group '${g}'; terms defines ${Object.keys(data.terms).join(', ')}`);
  }
  if (used.positive.size === 0) throw y.fail(['when'], 'the expression must require at least one group to be present');

  const unless = cleanTerms(y, ['unless'], data.unless);
  unless.forEach((t, i) => {
    if (owner.has(t)) throw y.fail(['unless', i], `'${t}' is both an exclusion and a term of group ${owner.get(t)}`);
  });
  const unlessTopic = cleanTerms(y, ['unless_topic'], data.unless_topic);
  unlessTopic.forEach((t, i) => {
    if (owner.has(t)) throw y.fail(['unless_topic', i], `'${t}' is both an exclusion and a term of group ${owner.get(t)}`);
  });
  let override: WhenExpr | undefined;
  if (data.override !== undefined) {
    try {
      override = parseWhen(data.override);
    } catch (e) {
      if (e instanceof WhenSyntaxError) throw y.fail(['override'], `${e.problem} in '${data.override}' at character ${e.at + 1}`);
      throw e;
    }
    const og = whenGroups(override);
    for (const g of [...og.positive, ...og.negative]) {
      if (!data.terms[g]) throw y.fail(['override'], `unknown group '${g}'; terms defines ${Object.keys(data.terms).join(', ')}`);
    }
  }

  const levels = data.levels ? stripUndefined(data.levels) : common.levels;
  if (data.levels) checkLevels(y, ['levels'], levels);

  const tests = data.tests.map((t, i): RuleTestCase => {
    if (!t.expect.match && t.expect.level) throw y.fail(['tests', i, 'expect', 'level'], 'a case expected not to match cannot expect a level');
    if (t.at !== undefined && Number.isNaN(Date.parse(t.at))) throw y.fail(['tests', i, 'at'], `not a date: '${t.at}'`);
    return {
      index: i,
      line: y.lineOf(['tests', i]) ?? 0,
      text: t.text,
      ...(t.title !== undefined ? { title: t.title } : {}),
      kind: t.kind,
      ...(t.at !== undefined ? { at: t.at } : {}),
      ...(t.source_weight !== undefined ? { sourceWeight: t.source_weight } : {}),
      expect: t.expect.level === undefined ? { match: t.expect.match } : { match: t.expect.match, level: t.expect.level },
    };
  });

  return {
    file: y.file,
    id: data.id,
    name: data.name,
    category: data.category,
    ...(data.description !== undefined ? { description: data.description } : {}),
    priority: data.priority,
    groups,
    when,
    whenSource: data.when,
    ...(data.near !== undefined ? { near: data.near } : {}),
    unless,
    unlessTopic,
    ...(override ? { override, overrideSource: data.override! } : {}),
    negatedBy: cleanTerms(y, ['negated_by'], data.negated_by),
    negationWindow: data.negation_window ?? common.negation.window,
    kindWeights: { ...common.kindWeights, ...stripUndefined(data.kind_weights ?? {}) },
    levels,
    tests,
  };
}

/** `context.only`: vocabulary names or terms; only these terms of the group need the context. */
function contextTerms(y: YamlFile, base: PathSeg[], only: string[] | undefined, common: CommonSpec): { terms?: string[] } {
  if (!only) return {};
  const terms = only.flatMap((o, i) => common.vocab[o] ?? [cleanTerm(y, [...base, 'context', 'only', i], o)]);
  return { terms: [...new Set(terms)] };
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/**
 * Loads `dir` (the rules/ folder): common.yaml (shared negation cues, exclusions, vocabularies,
 * weights), calendar.yaml (key periods) and risk/*.yaml (one rule a file). Throws ConfigError
 * naming file, line and field on the first mistake.
 */
export async function loadRuleSet(dir: string): Promise<RuleSet> {
  const common = parseCommon(await readYaml(path.join(dir, 'common.yaml')));
  const calendar = parseCalendar(await readYaml(path.join(dir, 'calendar.yaml')));
  const riskDir = path.join(dir, 'risk');
  let names: string[];
  try {
    names = (await readdir(riskDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    throw new ConfigError(riskDir, '', `cannot read the risk rules folder: ${(e as Error).message}`);
  }
  if (names.length === 0) throw new ConfigError(riskDir, '', 'no rule files (*.yaml)');
  const rules: RuleSpec[] = [];
  const ids = new Map<string, string>();
  for (const name of names) {
    const y = await readYaml(path.join(riskDir, name));
    if (!y) continue;
    const rule = parseRule(y, common);
    const seen = ids.get(rule.id);
    if (seen) throw y.fail(['id'], `duplicate rule id '${rule.id}' (also in ${seen})`);
    ids.set(rule.id, y.file);
    rules.push(rule);
  }
  return { dir, common, calendar, rules };
}

