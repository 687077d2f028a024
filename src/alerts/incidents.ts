import type { Alert, ItemKind, Level, ScoredItem } from '../core/types.ts';
import { LEVELS, levelRank } from '../core/types.ts';
import { contentHash } from '../core/ids.ts';
import { popcount32, simhashHalves } from '../text/simhash.ts';
import { tokenCount } from '../text/tokens.ts';
import { businessKey, businessName } from './business.ts';

/*
 * Incidents: one alert per real-world event. The same school poisoning arrives as a news report,
 * three reposts with small edits and two complaints from parents; the desk must see one alert that
 * lists them all. IncidentIndex is the in-memory merge index over a window of recent alerts; the
 * runner asks it `match(item)` before raising a new alert, and `add`s every alert/item pair it
 * stores. Everything here is deterministic: ties break on distance, then recency, then alert id.
 *
 * Thresholds (measured on the jieba tokens the process stage produces, TF-IDF weighted 64-bit
 * SimHash from src/text/simhash.ts):
 * - exact duplicate: same SHA-256 of the text with whitespace and punctuation removed (NFKC), so
 *   a copy that only changed spacing, quotes or full-width commas is the same text;
 * - near duplicate: Hamming ≤ 3 (Manku et al. 2007, 64-bit, web pages) when both items have at
 *   least NEAR_DUP_SHORT_TOKENS tokens, ≤ 8 when either has fewer. Provincial news items are short
 *   (a 120-character report is ~60 jieba tokens), and on such items a repost that adds 【转】 and
 *   rewrites a figure, or prefixes a source line and swaps a word, moved 1–8 bits in the measured
 *   stream (test/alerts/stream.ts: 5 stories), while the closest pair of different stories was 17
 *   bits apart even within one county and category. 8 sits below that gap with margin on the
 *   unrelated side; the few edits that move more (a new title plus a dropped sentence: 14–26 bits)
 *   are left to the incident rule below, which catches them by shared terms.
 * - same incident without shared text, within the window, regions overlapping at county level (or
 *   one region is the other's city) AND either
 *     · a matched rule category in common AND ≥ 2 shared rule terms that are not generic — generic
 *       terms (餐后, 多名, 医院, 食品…) fire in every report of a kind and prove nothing; or
 *     · the same business named (被投诉主体, normalised by businessKey). Deliberately without the
 *       category condition: reports about one named shop score in neighbouring categories (a
 *       diner's diarrhoea → 食物中毒, the same shop's back-street workshop → 食品生产加工), and a
 *       named shop in one county within three days is the incident the desk follows. The item must
 *       still have matched some rule.
 */

export const INCIDENT_WINDOW_MS = 72 * 3600_000;
export const NEAR_DUP_HAMMING = 3;
export const NEAR_DUP_HAMMING_SHORT = 8;
/** Items with fewer tokens than this (either side) use the looser short-item bound. */
export const NEAR_DUP_SHORT_TOKENS = 80;
export const MIN_SHARED_TERMS = 2;
/**
 * An incident that already spans this many places, or holds this many distinct reports, takes
 * new reports only as exact or near duplicates: merging by shared words alone would let one
 * alert snowball over a province (its term and region sets grow with every report).
 */
export const MAX_INCIDENT_REGIONS = 4;
export const MAX_INCIDENT_FINGERPRINTS = 50;
/**
 * Most alerts the merge index holds (the oldest indexed go first). A province raises a few hundred
 * alerts a day, so 30 days fit many times over; the bound keeps memory and per-report cost flat
 * in a flood (the benchmark's synthetic month alerts on 1 item in 8).
 */
export const MAX_INDEXED_ALERTS = 20_000;
/**
 * What the index keeps of one alert's reports: its most recent members, fingerprints and exact
 * hashes. A report is compared with each of them, so without a bound a large incident (thousands
 * of reposts of one story) made every further report slower and the index grow without end
 * (bench figure 5: 33,000 reports in one alert). Recent reports are what a new one resembles, and
 * the index holds up to MAX_INDEXED_ALERTS alerts: at 200 members each it grew by about 7 MB per
 * 40,000 items of the benchmark stream.
 */
export const MAX_ENTRY_MEMBERS = 50;
export const MAX_ENTRY_FINGERPRINTS = 100;
export const MAX_ENTRY_HASHES = 200;
/**
 * Reports the whole index remembers, over all its alerts (the oldest go first, with their exact
 * hashes). Each costs about 1.5 KB; the benchmark alerts on one item in eight, so a month of it
 * kept ~125,000 of them (about 190 MB) before this bound. An alert whose reports have all gone
 * is still matched on its own words and places.
 */
export const MAX_INDEXED_MEMBERS = 20_000;
/**
 * Reports whose alert the index remembers by id, over all its alerts (the oldest go first), well
 * past their time as members. A batch stored but not committed before a crash is delivered again
 * to the next process; in a large incident its reports may by then resemble nothing the index
 * still holds of their alert (members, fingerprints and hashes keep only the recent ones), and
 * were raised or merged a second time elsewhere: one report in two live alerts. About 70 bytes
 * each; a redelivery brings back a few batches.
 */
export const MAX_INDEXED_OWNERS = 40_000;
const DAY_MS = 86_400_000;

/**
 * Rule terms that occur in most reports of their kind: eating (午餐, 吃了), counts (多名, 余名),
 * care (医院, 就医), food in general (食品, 食物), people (学生, 孩子) and advice words. Sharing
 * two of these says nothing about two reports being one event; sharing 呕吐 and 学校食堂 does.
 */
export const GENERIC_TERMS: ReadonlySet<string> = new Set([
  // eating
  '食用', '吃了', '吃完', '吃过', '吃后', '进食', '用餐', '就餐', '用完餐', '聚餐', '午餐', '午饭', '晚餐', '晚饭', '早餐', '早饭',
  '夜宵', '宵夜', '饭后', '餐后', '食用后', '喝了', '饮用', '喝完', '点了', '买了', '吃饭', '吃的', '进餐', '享用', '吃下',
  // counts
  '多名', '数名', '多人', '数人', '十余名', '十几名', '十几个', '余名', '余人', '多位', '一批', '集体', '好几个人', '好几个', '几个人',
  '几名', '名学生', '名师生', '名幼儿', '名儿童', '名村民', '名游客', '名员工', '名工人', '名食客', '名顾客', '名宾客', '名患者',
  '名群众', '名职工', '名老人', '名孩子', '人就医', '人住院', '人送医', '人中毒', '人出现', '家人', '全家',
  // care
  '送医', '就医', '就诊', '医院', '到医院', '去医院', '救治', '诊所', '卫生院', '卫生室', '急诊', '不适', '不舒服', '身体不适',
  // food and people in general
  '食品', '食物', '食材', '学生', '孩子', '学校', '老师', '教师', '幼儿',
  // enforcement boilerplate
  '立案调查', '立案查处', '责令整改', '责令改正', '限期整改', '罚款', '行政处罚', '查封', '扣押', '没收', '问题线索', '安全隐患',
  // advice
  '提醒', '提示', '警惕', '谨防', '及时就医',
]);

/** SHA-256 of the text with whitespace and punctuation removed (NFKC): the exact-duplicate key. */
export function normalisedContentHash(text: string): string {
  return contentHash(text.normalize('NFKC').replace(/[\s\p{P}\p{S}]+/gu, ''));
}

/** The Hamming bound for two items of these token counts. */
export function nearDuplicateBound(tokensA: number, tokensB: number): number {
  return Math.min(tokensA, tokensB) < NEAR_DUP_SHORT_TOKENS ? NEAR_DUP_HAMMING_SHORT : NEAR_DUP_HAMMING;
}

const isCode = (c: string) => /^\d{6}$/.test(c);
const isProvince = (c: string) => c.endsWith('0000');
const isCity = (c: string) => !isProvince(c) && c.endsWith('00');

/**
 * Do two region lists concern one place at county level? Equal codes, or a city and one of its
 * counties. A province-level code only matches itself: "江西" alone is too coarse to call two
 * reports one incident. Empty lists never overlap.
 */
export function regionsOverlap(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) {
    if (!isCode(x)) continue;
    for (const y of b) {
      if (!isCode(y)) continue;
      if (x === y) return true;
      if (isCity(x) && !isCity(y) && !isProvince(y) && y.slice(0, 4) === x.slice(0, 4)) return true;
      if (isCity(y) && !isCity(x) && !isProvince(x) && x.slice(0, 4) === y.slice(0, 4)) return true;
    }
  }
  return false;
}

/** Non-negated hit terms of the rules that matched: the terms an item contributes to merging. */
export function itemTerms(item: ScoredItem): string[] {
  const matched = new Set(item.explanation.filter((e) => e.matched).map((e) => e.rule));
  return [...new Set(item.hits.filter((h) => !h.negated && matched.has(h.rule)).map((h) => h.term))];
}

/**
 * The categories of every rule that matched an item (its top category first). Reports of one
 * event often land in neighbouring categories — a restaurant outbreak scores 食物中毒 in the news
 * and 餐饮服务 in a diner's complaint — so "same category" means a matched category in common.
 */
export function itemCategories(item: ScoredItem): string[] {
  const out = new Set<string>();
  if (item.category) out.add(item.category);
  for (const e of item.explanation) if (e.matched && e.category) out.add(e.category);
  return [...out];
}

/** A SimHash kept as its two 32-bit halves: comparing is two XORs and popcounts, and no string is held. */
export interface Fingerprint {
  tokens: number;
  hi: number;
  lo: number;
}

const sameFingerprint = (a: Fingerprint, b: Fingerprint): boolean => a.hi === b.hi && a.lo === b.lo;

/**
 * One copy of each word, category and region code the index holds. Every report parsed from the
 * bus brings its own copies of the same few thousand rule terms and codes; members keep up to
 * MAX_INDEXED_MEMBERS reports' worth of them. Cleared when full: sharing is only a saving.
 */
const interned = new Map<string, string>();
const MAX_INTERNED = 100_000;
function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(s, s);
  return s;
}

/**
 * What the index compares and keeps of one report, worked out once per item: the live stage
 * hands the same report to `candidates` and `add`, and a restart rebuilds the index from reports
 * made page by page instead of holding every recent item's whole document at once.
 */
export interface Report {
  id: string;
  /** Event time: publication, else processing (ms; NaN when neither parses). */
  at: number;
  /** normalisedContentHash of the text. */
  hash: string;
  print: Fingerprint;
  regions: readonly string[];
  /** itemTerms and itemCategories. */
  terms: readonly string[];
  categories: readonly string[];
  /** The business named, as written, and its key. */
  business: string | null;
  bkey: string | null;
}

export function reportOf(item: ScoredItem): Report {
  const business = businessName(item);
  return {
    id: item.id,
    at: itemTime(item),
    hash: normalisedContentHash(item.text),
    print: { tokens: tokenCount(item.tokens), ...simhashHalves(item.simhash) },
    regions: item.regions.map(intern),
    terms: itemTerms(item).map(intern),
    categories: itemCategories(item).map(intern),
    business,
    bkey: business ? businessKey(business) : null,
  };
}

const asReport = (x: ScoredItem | Report): Report => ('simhash' in x ? reportOf(x) : x);

/** What the index reads of an alert. */
export type IndexedAlert = Pick<Alert, 'id' | 'category' | 'regions' | 'region' | 'terms' | 'firstSeenAt' | 'lastSeenAt' | 'itemIds'>;

/**
 * Its lists are arrays without repeats, allocated at their size while they hold one element: most
 * alerts have one to three reports, and the index holds up to MAX_INDEXED_ALERTS entries. With a
 * Set for each list and arrays grown by push, an entry of one report cost about 1.9 KB.
 */
interface Entry {
  alertId: string;
  categories: string[];
  regions: string[];
  terms: string[];
  businesses: string[];
  fingerprints: Fingerprint[];
  /** Exact hashes, oldest first. */
  hashes: string[];
  /** Event-time span of the alert's reports: an item joins when it is within the window of any of them. */
  firstSeenAt: number;
  lastSeenAt: number;
  /**
   * Each report already in the alert. A new report joins by resembling one of them, not the
   * union of all: the relation stays pairwise and symmetric, so the incidents found are the same
   * whatever order reports arrive in, and an alert cannot snowball through its own growing sets.
   */
  members: Member[];
  /** Day buckets (event time ÷ 1 day) the entry is registered under, inclusive; NaN before any. */
  dayLo: number;
  dayHi: number;
}

interface Member {
  id: string;
  /** The report's exact-content hash, dropped from the index with the member. */
  hash: string;
  at: number;
  regions: readonly string[];
  /** More distinct regions than MAX_INCIDENT_REGIONS. */
  spread: boolean;
  /** A handful each: an array scans them as fast as a Set hashes, at a fraction of a Set's table. */
  terms: readonly string[];
  categories: readonly string[];
  business: string | null;
}

/** `list` with `x` added unless it holds it: a one-element list is allocated at its size. */
function including<T>(list: T[], x: T): T[] {
  if (list.length === 0) return [x];
  if (!list.includes(x)) list.push(x);
  return list;
}

/** The distinct values of `xs`, in order, in an array of their size. */
function distinct(xs: Iterable<string>): string[] {
  return [...new Set(xs)];
}

export type MatchReason = 'exact' | 'near' | 'incident';

export interface IncidentMatch {
  alertId: string;
  reason: MatchReason;
  /** Hamming distance for 'near', shared specific terms for 'incident'. */
  detail: string;
}

export interface IncidentIndexOptions {
  windowMs?: number;
  /** Terms that never count as shared evidence; defaults to GENERIC_TERMS. */
  genericTerms?: ReadonlySet<string>;
}

const itemTime = (item: ScoredItem) => {
  const t = Date.parse(item.publishedAt);
  return Number.isNaN(t) ? Date.parse(item.processedAt) : t;
};

function addTo(map: Map<string, Set<Entry>>, key: string, e: Entry): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(e);
}

function removeFrom(map: Map<string, Set<Entry>>, key: string, e: Entry): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(e);
  if (!set.size) map.delete(key);
}

/** Most recently seen first, then the smaller id: the tie-break of every candidate list. */
const recency = (a: Entry, b: Entry): number => b.lastSeenAt - a.lastSeenAt || (a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0);

/**
 * Empties an entry that has left the index. The member queue still points at it until the queue
 * is next compacted, and it used to keep the entry's reports alive with it: over a 1M-item stream
 * about 50,000 reports beyond the members' budget, let go all at once when the queue was
 * compacted (the main heap rose to 265 MB and fell to 112; bench figure 5).
 */
function release(e: Entry): void {
  e.members = [];
  e.fingerprints = [];
  e.hashes = [];
  e.terms = [];
  e.regions = [];
  e.categories = [];
  e.businesses = [];
}

export class IncidentIndex {
  readonly windowMs: number;
  private readonly generic: ReadonlySet<string>;
  private readonly entries = new Map<string, Entry>();
  /** Members in the order they joined (entries repeat; stale ones are skipped), for MAX_INDEXED_MEMBERS. */
  private memberQueue: Entry[] = [];
  private memberHead = 0;
  private totalMembers = 0;
  private readonly byHash = new Map<string, string>();
  /** Report id → the alert it was added to (since maybe folded into another: the store says which). */
  private readonly owners = new Map<string, string>();
  /** Entries by the days their reports span: a report only meets alerts within the window of it. */
  private readonly byDay = new Map<number, Set<Entry>>();
  /** Entries by the first four digits of each region code they hold, and by business key. */
  private readonly byPrefix = new Map<string, Set<Entry>>();
  private readonly byBusiness = new Map<string, Set<Entry>>();
  private lastSweep = -Infinity;

  constructor(opts: IncidentIndexOptions = {}) {
    this.windowMs = opts.windowMs ?? INCIDENT_WINDOW_MS;
    this.generic = opts.genericTerms ?? GENERIC_TERMS;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The id of the alert this item belongs to, or null for a new incident. */
  match(item: ScoredItem): string | null {
    return this.explain(item)?.alertId ?? null;
  }

  /** Like match, saying why (for the alert history and for tests). */
  explain(item: ScoredItem): IncidentMatch | null {
    return this.candidates(item)[0] ?? null;
  }

  /**
   * Every live alert this item would merge into, best first: the exact duplicate, then near
   * duplicates by distance, then incidents (same business before shared terms, more shared terms
   * first); ties go to the most recently seen alert, then the smaller id. More than one entry means
   * the item bridges two alerts that were raised apart (a complaint arriving before the news it
   * corroborates): the runner may fold the others into the first with `absorb`.
   */
  candidates(item: ScoredItem | Report): IncidentMatch[] {
    const r = asReport(item);
    const at = r.at;
    // Within the window of the alert's time span, not only of its newest report: the relation stays
    // symmetric, so the incidents found do not depend on the order reports arrive in.
    const live = (e: Entry) => at >= e.firstSeenAt - this.windowMs && at <= e.lastSeenAt + this.windowMs;
    const ordered: Entry[] = [];
    if (!Number.isNaN(at)) {
      const seen = new Set<Entry>();
      for (let d = Math.floor((at - this.windowMs) / DAY_MS), end = Math.floor((at + this.windowMs) / DAY_MS); d <= end; d++) {
        for (const e of this.byDay.get(d) ?? []) {
          if (seen.has(e)) continue;
          seen.add(e);
          if (live(e)) ordered.push(e);
        }
      }
    }
    ordered.sort(recency);
    const out: IncidentMatch[] = [];
    const taken = new Set<string>();
    const push = (m: IncidentMatch) => {
      if (taken.has(m.alertId)) return;
      taken.add(m.alertId);
      out.push(m);
    };

    const exact = this.byHash.get(r.hash);
    const exactEntry = exact ? this.entries.get(exact) : undefined;
    if (exactEntry && live(exactEntry)) push({ alertId: exactEntry.alertId, reason: 'exact', detail: r.hash.slice(0, 12) });

    const near: { e: Entry; d: number }[] = [];
    const tokens = r.print.tokens;
    const mine = r.print;
    for (const e of ordered) {
      let best = Infinity;
      for (const f of e.fingerprints) {
        const d = popcount32(mine.hi ^ f.hi) + popcount32(mine.lo ^ f.lo);
        if (d <= nearDuplicateBound(tokens, f.tokens) && d < best) best = d;
      }
      if (best < Infinity) near.push({ e, d: best });
    }
    // Stable sort keeps recency order among equal distances.
    near.sort((a, b) => a.d - b.d);
    for (const n of near) push({ alertId: n.e.alertId, reason: 'near', detail: `hamming=${n.d}` });

    const categories = r.categories;
    if (!categories.length) return out;
    const { business, bkey } = r;
    const terms = r.terms.filter((t) => !this.generic.has(t));
    const incidents: { e: Entry; shared: string[]; business: boolean }[] = [];
    // A report naming many places (a sampling notice listing a dozen batches) is not one incident
    // either; the bound applies to both sides so that whether two reports merge does not depend
    // on which arrived first.
    const spread = new Set(r.regions).size > MAX_INCIDENT_REGIONS;
    // Only alerts that can pass regionsOverlap (every overlap shares a 4-digit prefix) or name the
    // same business: the others were each checked member by member before, for nothing.
    const reachable = new Set<Entry>();
    if (!spread) {
      for (const c of r.regions) if (isCode(c)) for (const e of this.byPrefix.get(c.slice(0, 4)) ?? []) reachable.add(e);
      if (bkey) for (const e of this.byBusiness.get(bkey) ?? []) reachable.add(e);
    }
    for (const e of ordered) {
      if (spread || !reachable.has(e) || e.fingerprints.length >= MAX_INCIDENT_FINGERPRINTS) continue;
      // Alerts rebuilt without their reports fall back to the alert's own sets.
      const members: Member[] = e.members.length
        ? e.members
        : [{ id: '', hash: '', at: e.lastSeenAt, regions: [...e.regions], spread: e.regions.length > MAX_INCIDENT_REGIONS, terms: e.terms, categories: e.categories, business: null }];
      let best: { shared: string[]; business: boolean } | null = null;
      for (const m of members) {
        if (Math.abs(at - m.at) > this.windowMs || m.spread) continue;
        if (!regionsOverlap(r.regions, m.regions)) continue;
        const sameBusiness = bkey != null && (m.business === bkey || (!e.members.length && e.businesses.includes(bkey)));
        const shared = terms.filter((t) => m.terms.includes(t));
        if (!sameBusiness && (shared.length < MIN_SHARED_TERMS || !categories.some((c) => m.categories.includes(c)))) continue;
        if (!best || Number(sameBusiness) > Number(best.business) || shared.length > best.shared.length) best = { shared, business: sameBusiness };
      }
      if (best) incidents.push({ e, ...best });
    }
    incidents.sort((a, b) => Number(b.business) - Number(a.business) || b.shared.length - a.shared.length);
    for (const m of incidents) {
      const detail = m.business ? `同一被投诉主体：${business}` : `共同词：${m.shared.join('、')}`;
      push({ alertId: m.e.alertId, reason: 'incident', detail });
    }
    return out;
  }

  /**
   * Folds alert `fromId` into `intoId` (after the runner merged the stored alerts): the merged
   * alert keeps every fingerprint, hash, term, region and business of both.
   */
  absorb(intoId: string, fromId: string): void {
    const into = this.entries.get(intoId);
    const from = this.entries.get(fromId);
    if (!into || !from || into === from) return;
    into.categories = distinct([...into.categories, ...from.categories]);
    into.regions = distinct([...into.regions, ...from.regions]);
    into.terms = distinct([...into.terms, ...from.terms]);
    into.businesses = distinct([...into.businesses, ...from.businesses]);
    for (const f of from.fingerprints) if (!into.fingerprints.some((g) => sameFingerprint(g, f))) into.fingerprints.push(f);
    for (const h of from.hashes) {
      into.hashes = including(into.hashes, h);
      if (this.byHash.get(h) === fromId) this.byHash.set(h, intoId);
    }
    into.lastSeenAt = Math.max(into.lastSeenAt, from.lastSeenAt);
    into.firstSeenAt = Math.min(into.firstSeenAt, from.firstSeenAt);
    into.members.push(...from.members);
    // The moved members are now dropped through `into`; `from` leaves the index below.
    for (let i = 0; i < from.members.length; i++) this.memberQueue.push(into);
    this.trim(into);
    this.entries.delete(fromId);
    this.unregister(from);
    this.unindex(from);
    release(from);
    this.register(into);
    this.index(into);
  }

  /** Records that `item` (when given) belongs to `alert`; refreshes the alert's category, regions and terms. */
  add(alert: IndexedAlert, item?: ScoredItem | Report): void {
    let e = this.entries.get(alert.id);
    if (!e) {
      e = {
        alertId: alert.id,
        categories: [],
        regions: [],
        terms: [],
        businesses: [],
        fingerprints: [],
        hashes: [],
        firstSeenAt: Infinity,
        lastSeenAt: 0,
        members: [],
        dayLo: NaN,
        dayHi: NaN,
      };
      this.entries.set(alert.id, e);
      if (this.entries.size > MAX_INDEXED_ALERTS) this.remove(this.entries.keys().next().value!);
    }
    e.categories = including(e.categories, intern(alert.category));
    const named = alert.region ? [...alert.regions, alert.region] : alert.regions;
    if (named.some((r) => !e!.regions.includes(r))) e.regions = distinct([...e.regions, ...named.map(intern)]);
    if (alert.terms.some((t) => !e!.terms.includes(t))) e.terms = distinct([...e.terms, ...alert.terms.map(intern)]);
    const seen = Date.parse(alert.lastSeenAt);
    if (!Number.isNaN(seen)) e.lastSeenAt = Math.max(e.lastSeenAt, seen);
    const first = Date.parse(alert.firstSeenAt);
    if (!Number.isNaN(first)) e.firstSeenAt = Math.min(e.firstSeenAt, first);
    this.register(e);
    this.index(e);
    if (!item) return;
    const { id, hash, print, regions, terms, categories, bkey, at } = asReport(item);
    for (const c of categories) e.categories = including(e.categories, c);
    if (regions.some((r) => !e!.regions.includes(r))) e.regions = distinct([...e.regions, ...regions]);
    if (terms.some((t) => !e!.terms.includes(t))) e.terms = distinct([...e.terms, ...terms]);
    if (bkey) e.businesses = including(e.businesses, bkey);
    if (!e.fingerprints.some((f) => sameFingerprint(f, print))) e.fingerprints = including(e.fingerprints, print);
    e.hashes = including(e.hashes, hash);
    // First writer keeps an exact-duplicate hash: replays land on the alert that saw the text first.
    if (!this.byHash.has(hash)) this.byHash.set(hash, alert.id);
    if (!Number.isNaN(at)) {
      e.lastSeenAt = Math.max(e.lastSeenAt, at);
      e.firstSeenAt = Math.min(e.firstSeenAt, at);
      this.register(e);
    }
    this.index(e);
    this.own(id, e.alertId);
    if (!e.members.some((m) => m.id === id)) {
      e.members = including(e.members, { id, hash, at, regions, spread: new Set(regions).size > MAX_INCIDENT_REGIONS, terms, categories, business: bkey });
      this.totalMembers++;
      this.memberQueue.push(e);
    }
    this.trim(e);
    this.enforceMemberBudget();
  }

  /** Rebuilds the index from stored alerts and their items (items not found are skipped). */
  load(alerts: readonly IndexedAlert[], items: readonly (ScoredItem | Report)[]): void {
    const byId = new Map(items.map((i) => [i.id, i]));
    // Every report an alert lists, found or not; the least recently seen alerts (last in the
    // store's order) first, so that they are the ones MAX_INDEXED_OWNERS lets go.
    for (let i = alerts.length - 1; i >= 0; i--) for (const id of alerts[i]!.itemIds) this.own(id, alerts[i]!.id);
    for (const a of alerts) {
      this.add(a);
      for (const id of a.itemIds) {
        const it = byId.get(id);
        if (it) this.add(a, it);
      }
    }
  }

  /** The alert a report was added to, or null: a report delivered again belongs there, whatever it resembles now. */
  ownerOf(itemId: string): string | null {
    return this.owners.get(itemId) ?? null;
  }

  private own(itemId: string, alertId: string): void {
    this.owners.set(itemId, alertId);
    if (this.owners.size > MAX_INDEXED_OWNERS) this.owners.delete(this.owners.keys().next().value!);
  }

  /** Keeps an entry's members, fingerprints and hashes within their bounds, the oldest going first. */
  private trim(e: Entry): void {
    if (e.members.length > MAX_ENTRY_MEMBERS) for (const m of e.members.splice(0, e.members.length - MAX_ENTRY_MEMBERS)) this.dropMember(e, m);
    if (e.fingerprints.length > MAX_ENTRY_FINGERPRINTS) e.fingerprints.splice(0, e.fingerprints.length - MAX_ENTRY_FINGERPRINTS);
    while (e.hashes.length > MAX_ENTRY_HASHES) this.forgetHash(e, e.hashes[0]!);
  }

  /** Forgets a member that left its entry, with its exact hash. */
  private dropMember(e: Entry, m: Member): void {
    this.totalMembers--;
    this.forgetHash(e, m.hash);
  }

  /** Drops an exact hash from the entry, and from the index while it points to this entry. */
  private forgetHash(e: Entry, hash: string): void {
    const i = e.hashes.indexOf(hash);
    if (i < 0) return;
    e.hashes.splice(i, 1);
    if (this.byHash.get(hash) === e.alertId) this.byHash.delete(hash);
  }

  /** Keeps the index within MAX_INDEXED_MEMBERS, dropping the members that joined first. */
  private enforceMemberBudget(): void {
    while (this.totalMembers > MAX_INDEXED_MEMBERS && this.memberHead < this.memberQueue.length) {
      const e = this.memberQueue[this.memberHead++]!;
      if (this.entries.get(e.alertId) !== e || e.members.length === 0) continue;
      this.dropMember(e, e.members.shift()!);
    }
    if (this.memberHead > MAX_INDEXED_MEMBERS) {
      this.memberQueue = this.memberQueue.slice(this.memberHead).filter((e) => this.entries.get(e.alertId) === e);
      this.memberHead = 0;
    }
  }

  /** Drops an alert (closed, or merged away) from the index. */
  remove(alertId: string): void {
    const e = this.entries.get(alertId);
    if (!e) return;
    this.totalMembers -= e.members.length;
    for (const h of e.hashes) if (this.byHash.get(h) === alertId) this.byHash.delete(h);
    this.entries.delete(alertId);
    this.unregister(e);
    this.unindex(e);
    release(e);
  }

  /**
   * Forgets alerts last seen before `now − window`. A sweep visits every entry, so it runs once per
   * hour of event time; until then an expired entry is only skipped (it is outside every window).
   */
  evict(now: Date | number): void {
    const cutoff = +now - this.windowMs;
    if (cutoff - this.lastSweep < 3_600_000) return;
    this.lastSweep = cutoff;
    for (const e of [...this.entries.values()]) if (e.lastSeenAt < cutoff) this.remove(e.alertId);
  }

  /** Files the entry under its region prefixes and businesses (both only grow while it lives). */
  private index(e: Entry): void {
    for (const r of e.regions) if (isCode(r)) addTo(this.byPrefix, r.slice(0, 4), e);
    for (const b of e.businesses) addTo(this.byBusiness, b, e);
  }

  private unindex(e: Entry): void {
    for (const r of e.regions) if (isCode(r)) removeFrom(this.byPrefix, r.slice(0, 4), e);
    for (const b of e.businesses) removeFrom(this.byBusiness, b, e);
  }

  /** Files the entry under every day its span now covers (spans only grow while an entry lives). */
  private register(e: Entry): void {
    if (!Number.isFinite(e.firstSeenAt) || !(e.lastSeenAt >= e.firstSeenAt)) return;
    const lo = Math.floor(e.firstSeenAt / DAY_MS);
    const hi = Math.floor(e.lastSeenAt / DAY_MS);
    for (let d = lo; d <= hi; d++) {
      if (d >= e.dayLo && d <= e.dayHi) continue;
      let set = this.byDay.get(d);
      if (!set) this.byDay.set(d, (set = new Set()));
      set.add(e);
    }
    e.dayLo = Number.isNaN(e.dayLo) ? lo : Math.min(e.dayLo, lo);
    e.dayHi = Number.isNaN(e.dayHi) ? hi : Math.max(e.dayHi, hi);
  }

  private unregister(e: Entry): void {
    if (Number.isNaN(e.dayLo)) return;
    for (let d = e.dayLo; d <= e.dayHi; d++) {
      const set = this.byDay.get(d);
      if (!set) continue;
      set.delete(e);
      if (!set.size) this.byDay.delete(d);
    }
  }
}

/* ---------------------------------------------------------------- corroboration */

/** The history action corroboratedLevel looks for, so each alert is raised for corroboration once. */
export const CORROBORATE_ACTION = 'corroborate';
/** A repost wave: at least this many items … */
export const WAVE_MIN_ITEMS = 5;
/** … from at least this many distinct sources. */
export const WAVE_MIN_SOURCES = 3;

export interface CorroborationStats {
  kinds: readonly ItemKind[];
  sources: number;
  items: number;
}

const KIND_NAMES: Record<ItemKind, string> = { news: '新闻报道', complaint: '投诉举报', notice: '监管公告' };

/**
 * The level an incident deserves once corroborated. Rule: one step up (蓝→黄→橙→红, never above
 * 红) when reports come from ≥ 2 kinds (a complaint and a news report tell the same story
 * independently) OR ≥ 5 items from ≥ 3 sources (a repost wave: the public is already talking).
 * Both together still give one step: they are evidence of one thing, that the event is real and
 * known. Applied at most once per alert — when the history already holds a 'corroborate' entry the
 * level is returned unchanged — so re-running it on every merged item cannot ratchet the level.
 * `reason` is the Chinese history note, null when nothing changes.
 */
export function corroboratedLevel(
  alert: Pick<Alert, 'level' | 'kinds' | 'sources' | 'itemIds' | 'itemCount' | 'history'>,
  stats: CorroborationStats = { kinds: alert.kinds, sources: alert.sources.length, items: alert.itemCount ?? alert.itemIds.length },
): { level: Level; reason: string | null } {
  const unchanged = { level: alert.level, reason: null };
  if (alert.history.some((h) => h.action === CORROBORATE_ACTION)) return unchanged;
  const kinds = [...new Set(stats.kinds)];
  const why: string[] = [];
  if (kinds.length >= 2) why.push(kinds.map((k) => KIND_NAMES[k]).join('与') + '相互印证');
  if (stats.items >= WAVE_MIN_ITEMS && stats.sources >= WAVE_MIN_SOURCES) {
    why.push(`${stats.sources}个来源共${stats.items}条报道`);
  }
  if (!why.length || alert.level === '红') return unchanged;
  const level = LEVELS[levelRank(alert.level) - 1]!;
  return { level, reason: `多方印证（${why.join('；')}），预警由${alert.level}色升为${level}色` };
}
