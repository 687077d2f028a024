import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TokenSpans, tokenHash1, tokenHash2 } from './token-spans.ts';

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

/*
 * Per-call scratch, reused so that hashing an item allocates (almost) nothing: the distinct tokens
 * and the weight accumulators. Taken while in use, so an idf callback that itself calls simhash
 * gets a fresh one.
 */
interface Scratch {
  spans: TokenSpans;
  /** Weight of each distinct token. */
  w: Float64Array;
  /** 16 four-bit slices of the hash × 16 values: the weight summed per slice value. */
  buckets: Float64Array;
}
let spare: Scratch | null = null;

/** SimHash's sum for bit `b` (0–31 the first hash, 32–63 the second), one distinct token after another. */
function exactSum(s: Scratch, n: number, b: number): number {
  const words = b < 32 ? s.spans.h1 : s.spans.h2;
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
  const { w, buckets } = s;
  const { h1: his, h2: los } = s.spans;
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
 * Each distinct token weighs its count × idf, in first-seen order. Figures (digits, '.', ',', '%'
 * only) are left out: they are what reposts edit most (32名 → 30余名) and say least about which
 * story it is. Its 64 bits
 * come from two independent 32-bit FNV-1a variants (no BigInt in the hot loop); each bit adds the
 * weight to its sum when set and takes it away when not, and the SimHash bit is set when the sum
 * is positive. `tokens` are joined by spaces, as a ScoredItem carries them (src/text/tokens.ts):
 * each is read in place, without a string per token.
 */
export function simhash(tokens: string, idf: (token: string) => number = jiebaIdf): string {
  const s = spare ?? { spans: new TokenSpans(), w: new Float64Array(0), buckets: new Float64Array(256) };
  spare = null;
  const { spans } = s;
  const n = spans.read(tokens, true);
  if (s.w.length < n) s.w = new Float64Array(Math.max(n, 2 * s.w.length));
  const { w } = s;
  const { counts, h1, h2 } = spans;
  if (idf === jiebaIdf) {
    for (let k = 0; k < n; k++) {
      const v = hashedIdf(h1[k]!, h2[k]!);
      w[k] = counts[k]! * (v === AMBIGUOUS ? ambiguousIdf(spans.token(tokens, k)) : v);
    }
  } else for (let k = 0; k < n; k++) w[k] = counts[k]! * idf(spans.token(tokens, k));
  const { hi, lo } = signBits(s, n);
  spare = s;
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
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
