import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * 64-bit SimHash (Charikar; Manku et al. 2007) over segmented tokens, weighted by TF-IDF so
 * that 的/了/后 do not drown the words that make a story. Near-duplicate reports (reposts,
 * lightly edited copies) differ in few bits; Manku et al. use Hamming distance ≤ 3 on 64 bits
 * for web pages, short news items need a looser bound (the incidents stage documents its own).
 */

/** Median IDF of jieba's table, used for words it does not know (names, new terms). */
const UNKNOWN_IDF = 11.7;

/*
 * jieba's IDF table (about 270,000 words) keyed by the same two 32-bit hashes SimHash computes for
 * every token anyway, in typed arrays with open addressing: a lookup is a few array reads and no
 * string hashing. A Map of the words took about 30 MB per thread and, for the stage, a cache-missing
 * string lookup per token. Two words of the table with equal 64-bit hashes (none today) are marked
 * ambiguous and looked up by the word itself.
 */
interface IdfTable {
  hi: Int32Array;
  lo: Int32Array;
  value: Float64Array;
  used: Uint8Array;
  mask: number;
  /** Words whose 64-bit hash another word of the table shares. */
  ambiguous: Map<string, number>;
}
let idfTable: IdfTable | null = null;
const AMBIGUOUS = -1;

function loadIdfTable(): IdfTable {
  const path = createRequire(import.meta.url).resolve('@node-rs/jieba/idf.txt');
  const file = readFileSync(path, 'utf8');
  // Line by line without splitting the file first: an array of 270,000 line strings would raise the
  // thread's peak memory for good.
  let lines = 0;
  for (let at = file.indexOf('\n'); at >= 0; at = file.indexOf('\n', at + 1)) lines++;
  // At most two-thirds full keeps probe runs short; about 9 MB for jieba's table.
  let size = 1024;
  while (size < (lines + 1) * 1.5) size *= 2;
  const t: IdfTable = { hi: new Int32Array(size), lo: new Int32Array(size), value: new Float64Array(size), used: new Uint8Array(size), mask: size - 1, ambiguous: new Map() };
  // Where the word that filled each slot starts, to tell a repeated word (the later line wins) from a hash collision.
  const ownerAt = new Int32Array(size);
  const wordAt = (from: number) => file.slice(from, file.indexOf(' ', from));
  for (let from = 0; from < file.length; ) {
    let end = file.indexOf('\n', from);
    if (end < 0) end = file.length;
    const sp = file.indexOf(' ', from);
    if (sp > from && sp < end) {
      const word = file.slice(from, sp);
      const value = Number(file.slice(sp + 1, end));
      const h1 = tokenHash1(word);
      const h2 = tokenHash2(word);
      let at = slotOf(h1, h2, t.mask);
      while (t.used[at] === 1 && !(t.hi[at] === h1 && t.lo[at] === h2)) at = (at + 1) & t.mask;
      if (t.used[at] === 0) {
        t.used[at] = 1;
        t.hi[at] = h1;
        t.lo[at] = h2;
        t.value[at] = value;
        ownerAt[at] = from;
      } else if (t.value[at] === AMBIGUOUS) {
        t.ambiguous.set(word, value);
      } else if (wordAt(ownerAt[at]!) === word) {
        t.value[at] = value;
      } else {
        t.ambiguous.set(wordAt(ownerAt[at]!), t.value[at]!);
        t.ambiguous.set(word, value);
        t.value[at] = AMBIGUOUS;
      }
    }
    from = end + 1;
  }
  return t;
}

function slotOf(h1: number, h2: number, mask: number): number {
  return (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask;
}

/** IDF of a token whose hashes are h1, h2 (as simhash computes them), or AMBIGUOUS: then look the token up with ambiguousIdf. */
function hashedIdf(h1: number, h2: number): number {
  const t = (idfTable ??= loadIdfTable());
  let at = slotOf(h1, h2, t.mask);
  for (;;) {
    if (t.used[at] === 0) return UNKNOWN_IDF;
    if (t.hi[at] === h1 && t.lo[at] === h2) return t.value[at]!;
    at = (at + 1) & t.mask;
  }
}

function ambiguousIdf(token: string): number {
  return idfTable!.ambiguous.get(token) ?? UNKNOWN_IDF;
}

/** jieba's IDF of a token (shipped with @node-rs/jieba), the table loaded once on first use. */
export function jiebaIdf(token: string): number {
  const v = hashedIdf(tokenHash1(token), tokenHash2(token));
  return v === AMBIGUOUS ? ambiguousIdf(token) : v;
}

/** The first of a token's two 32-bit FNV-1a variants (with a final avalanche, so short tokens spread over all bits). */
function tokenHash1(t: string): number {
  let h1 = H1_SEED;
  for (let j = 0; j < t.length; j++) h1 = step1(h1, t.charCodeAt(j));
  return final1(h1);
}

const H1_SEED = 0x811c9dc5;
const H2_SEED = 0x01000193 ^ 0x5bd1e995;
const step1 = (h: number, c: number): number => Math.imul(h ^ c, 0x01000193);
function step2(h: number, c: number): number {
  h = Math.imul(h ^ c, 0x5bd1e995);
  return h ^ (h >>> 15);
}
function final1(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
function final2(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The second variant. */
function tokenHash2(t: string): number {
  let h2 = H2_SEED;
  for (let j = 0; j < t.length; j++) h2 = step2(h2, t.charCodeAt(j));
  return final2(h2);
}

/*
 * Per-call scratch, reused so that hashing an item allocates (almost) nothing: an open-addressing
 * table from token to its slot in first-seen order, keyed by the token's own 64-bit hash, and the
 * 64 weight accumulators. Taken while in use, so an idf callback that itself calls simhash gets a
 * fresh one.
 */
interface Scratch {
  /** Open-addressing table: slot + 1 of the token there, valid when its stamp is the call's. */
  table: Int32Array;
  stamps: Uint32Array;
  stamp: number;
  /** Where each distinct token starts in the joined list, and its length, in first-seen order. */
  starts: Int32Array;
  lens: Int32Array;
  counts: Int32Array;
  hi: Int32Array;
  lo: Int32Array;
  /** Weight of each distinct token. */
  w: Float64Array;
  /** 16 four-bit slices of the hash × 16 values: the weight summed per slice value. */
  buckets: Float64Array;
}
let spare: Scratch | null = null;

function scratchFor(n: number): Scratch {
  const s: Scratch = spare ?? {
    table: new Int32Array(0),
    stamps: new Uint32Array(0),
    stamp: 0,
    starts: new Int32Array(0),
    lens: new Int32Array(0),
    counts: new Int32Array(0),
    hi: new Int32Array(0),
    lo: new Int32Array(0),
    w: new Float64Array(0),
    buckets: new Float64Array(256),
  };
  spare = null;
  // A table at most half full keeps probe runs short.
  let size = s.table.length || 256;
  while (size < 2 * n) size *= 2;
  if (size !== s.table.length) {
    s.table = new Int32Array(size);
    s.stamps = new Uint32Array(size);
  }
  if (s.counts.length < n) {
    s.starts = new Int32Array(n);
    s.lens = new Int32Array(n);
    s.counts = new Int32Array(n);
    s.hi = new Int32Array(n);
    s.lo = new Int32Array(n);
    s.w = new Float64Array(n);
  }
  s.stamp = (s.stamp + 1) >>> 0;
  if (s.stamp === 0) {
    s.stamps.fill(0);
    s.stamp = 1;
  }
  return s;
}

/** A character of a figure: digits, '.', ',' and '%'. */
function isFigureChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2c || c === 0x25;
}

/** SimHash's sum for bit `b` (0–31 the first hash, 32–63 the second), one distinct token after another. */
function exactSum(s: Scratch, n: number, b: number): number {
  const words = b < 32 ? s.hi : s.lo;
  const shift = b & 31;
  const w = s.w;
  let v = 0;
  for (let k = 0; k < n; k++) v += (words[k]! >>> shift) & 1 ? w[k]! : -w[k]!;
  return v;
}

// Below this many distinct tokens, 64 additions per token cost less than the buckets' 1,024.
const BUCKET_MIN_TOKENS = 24;

/**
 * The 64 bits: bit b is set when its sum, added in exactly SimHash's order (exactSum), is
 * positive. Doing those 64 additions per distinct token was most of the cost. Instead each token
 * adds its weight once per four-bit slice of its hash (16 additions), and a bit's sum is read from
 * its slice's 16 buckets. Floating-point rounding makes that a different number than SimHash's, but
 * each differs from the exact real sum by at most γ(n + 15)·Σ|w| (any order of adding n terms,
 * γ(m) = m·2⁻⁵³/(1 − m·2⁻⁵³)), so when the bucket sum is further than twice that from zero both
 * have its sign; the threshold below is four times wider still. Bits closer to zero (sums that
 * cancel) are added in SimHash's order.
 */
function signBits(s: Scratch, n: number): { hi: number; lo: number } {
  const { w, hi: his, lo: los, buckets } = s;
  let absSum = 0;
  for (let k = 0; k < n; k++) absSum += Math.abs(w[k]!);
  let hi = 0;
  let lo = 0;
  // Also for non-finite weights, and sums so small or large that the threshold itself would round.
  if (n < BUCKET_MIN_TOKENS || !(absSum >= 2 ** -960 && absSum <= 2 ** 1000)) {
    for (let b = 0; b < 32; b++) {
      if (exactSum(s, n, b) > 0) hi |= 1 << b;
      if (exactSum(s, n, b + 32) > 0) lo |= 1 << b;
    }
    return { hi, lo };
  }
  buckets.fill(0);
  for (let k = 0; k < n; k++) {
    const wk = w[k]!;
    const h = his[k]!;
    const l = los[k]!;
    buckets[h & 15] += wk;
    buckets[16 + ((h >>> 4) & 15)] += wk;
    buckets[32 + ((h >>> 8) & 15)] += wk;
    buckets[48 + ((h >>> 12) & 15)] += wk;
    buckets[64 + ((h >>> 16) & 15)] += wk;
    buckets[80 + ((h >>> 20) & 15)] += wk;
    buckets[96 + ((h >>> 24) & 15)] += wk;
    buckets[112 + (h >>> 28)] += wk;
    buckets[128 + (l & 15)] += wk;
    buckets[144 + ((l >>> 4) & 15)] += wk;
    buckets[160 + ((l >>> 8) & 15)] += wk;
    buckets[176 + ((l >>> 12) & 15)] += wk;
    buckets[192 + ((l >>> 16) & 15)] += wk;
    buckets[208 + ((l >>> 20) & 15)] += wk;
    buckets[224 + ((l >>> 24) & 15)] += wk;
    buckets[240 + (l >>> 28)] += wk;
  }
  const threshold = absSum * (n + 16) * 2 ** -50;
  const bit = (b: number, d: number): number => (d > threshold || (d >= -threshold && exactSum(s, n, b) > 0) ? 1 << (b & 31) : 0);
  // Slice p holds bits 4p–4p+3 (0–31 the first hash, 32–63 the second); bucket x of a slice adds
  // to bit j when bit j of x is set and takes away when not.
  for (let p = 0; p < 16; p++) {
    const o = p * 16;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    for (let x = 0; x < 16; x++) {
      const v = buckets[o + x]!;
      d0 += x & 1 ? v : -v;
      d1 += x & 2 ? v : -v;
      d2 += x & 4 ? v : -v;
      d3 += x & 8 ? v : -v;
    }
    const bits = bit(4 * p, d0) | bit(4 * p + 1, d1) | bit(4 * p + 2, d2) | bit(4 * p + 3, d3);
    if (p < 8) hi |= bits;
    else lo |= bits;
  }
  return { hi, lo };
}

/**
 * Each distinct token (figures left out) weighs its count × idf, in first-seen order. Its 64 bits
 * come from two independent 32-bit FNV-1a variants (no BigInt in the hot loop); each bit adds the
 * weight to its sum when set and takes it away when not, and the SimHash bit is set when the sum
 * is positive. `tokens` are joined by spaces, as a ScoredItem carries them (src/text/tokens.ts):
 * each is read in place, without a string per token.
 */
export function simhash(tokens: string, idf: (token: string) => number = jiebaIdf): string {
  const { scratch: s, n } = distinct(tokens);
  const { w, counts, hi: his, lo: los, starts, lens } = s;
  const tokenAt = (k: number) => tokens.slice(starts[k]!, starts[k]! + lens[k]!);
  if (idf === jiebaIdf) {
    for (let k = 0; k < n; k++) {
      const v = hashedIdf(his[k]!, los[k]!);
      w[k] = counts[k]! * (v === AMBIGUOUS ? ambiguousIdf(tokenAt(k)) : v);
    }
  } else for (let k = 0; k < n; k++) w[k] = counts[k]! * idf(tokenAt(k));
  const { hi, lo } = signBits(s, n);
  spare = s;
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * The distinct tokens of a joined list, in the scratch: where each starts, its length and count,
 * and its hashes (tokenHash1 and tokenHash2, computed while reading it). Two tokens are one when
 * their characters are.
 */
function distinct(joined: string): { scratch: Scratch; n: number } {
  // A token is at least one character and a space: at most (length + 1) / 2 of them.
  const s = scratchFor((joined.length + 1) >> 1);
  const { table, stamps, stamp, counts, hi: his, lo: los, starts, lens } = s;
  const mask = table.length - 1;
  let n = 0;
  const len = joined.length;
  let i = 0;
  while (i < len) {
    if (joined.charCodeAt(i) === SPACE) {
      i++;
      continue;
    }
    const from = i;
    let h1 = H1_SEED;
    let h2 = H2_SEED;
    let numeric = true;
    for (; i < len; i++) {
      const c = joined.charCodeAt(i);
      if (c === SPACE) break;
      h1 = step1(h1, c);
      h2 = step2(h2, c);
      if (numeric && !isFigureChar(c)) numeric = false;
    }
    // Figures are what reposts edit most (32名 → 30余名) and say least about which story it is.
    if (numeric) continue;
    h1 = final1(h1);
    h2 = final2(h2);
    const tokenLen = i - from;
    let at = (h1 ^ h2) & mask;
    for (;;) {
      if (stamps[at] !== stamp) {
        stamps[at] = stamp;
        table[at] = n + 1;
        starts[n] = from;
        lens[n] = tokenLen;
        counts[n] = 1;
        his[n] = h1;
        los[n] = h2;
        n++;
        break;
      }
      const k = table[at]! - 1;
      if (his[k] === h1 && los[k] === h2 && lens[k] === tokenLen && sameChars(joined, starts[k]!, from, tokenLen)) {
        counts[k]!++;
        break;
      }
      at = (at + 1) & mask;
    }
  }
  return { scratch: s, n };
}

const SPACE = 0x20;

function sameChars(text: string, a: number, b: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (text.charCodeAt(a + j) !== text.charCodeAt(b + j)) return false;
  return true;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** A SimHash's two 32-bit halves: compared as two XORs and popcounts once parsed. */
export function simhashHalves(h: string): { hi: number; lo: number } {
  return { hi: parseInt(h.slice(0, 8), 16) >>> 0, lo: parseInt(h.slice(8), 16) >>> 0 };
}

export function hamming(a: string, b: string): number {
  const x = simhashHalves(a);
  const y = simhashHalves(b);
  return popcount32(x.hi ^ y.hi) + popcount32(x.lo ^ y.lo);
}
