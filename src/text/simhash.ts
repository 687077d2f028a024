import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * 64-bit SimHash (Charikar; Manku et al. 2007) over segmented tokens, weighted by TF-IDF so
 * that 的/了/后 do not drown the words that make a story. Near-duplicate reports (reposts,
 * lightly edited copies) differ in few bits; Manku et al. use Hamming distance ≤ 3 on 64 bits
 * for web pages, short news items need a looser bound (the incidents stage documents its own).
 */

let idfTable: Map<string, number> | null = null;
/** Median IDF of jieba's table, used for words it does not know (names, new terms). */
const UNKNOWN_IDF = 11.7;

/** jieba's IDF table (shipped with @node-rs/jieba), loaded once on first use. */
export function jiebaIdf(token: string): number {
  if (!idfTable) {
    const path = createRequire(import.meta.url).resolve('@node-rs/jieba/idf.txt');
    idfTable = new Map();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) idfTable.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
  }
  return idfTable.get(token) ?? UNKNOWN_IDF;
}

/** Two independent 32-bit FNV-1a variants give the 64 bits without BigInt in the hot loop. */
function hash64(s: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  // final avalanche so short tokens spread over all bits
  h1 ^= h1 >>> 16; h1 = Math.imul(h1, 0x85ebca6b); h1 ^= h1 >>> 13;
  h2 ^= h2 >>> 16; h2 = Math.imul(h2, 0xc2b2ae35); h2 ^= h2 >>> 16;
  return [h1 >>> 0, h2 >>> 0];
}

const NUMERIC = /^[\d.,%]+$/;

export function simhash(tokens: readonly string[], idf: (token: string) => number = jiebaIdf): string {
  const tf = new Map<string, number>();
  // Figures are what reposts edit most (32名 → 30余名) and say least about which story it is.
  for (const t of tokens) if (!NUMERIC.test(t)) tf.set(t, (tf.get(t) ?? 0) + 1);
  const v = new Float64Array(64);
  for (const [tok, n] of tf) {
    const w = n * idf(tok);
    const [hi, lo] = hash64(tok);
    for (let b = 0; b < 32; b++) {
      v[b] += (hi >>> b) & 1 ? w : -w;
      v[32 + b] += (lo >>> b) & 1 ? w : -w;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 32; b++) {
    if (v[b]! > 0) hi |= 1 << b;
    if (v[32 + b]! > 0) lo |= 1 << b;
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export function hamming(a: string, b: string): number {
  return (
    popcount32(parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) +
    popcount32(parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16))
  );
}
