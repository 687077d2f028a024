/**
 * The distinct tokens of a joined form (tokens.ts), read in place: where each starts, its length,
 * how often it occurs and its two 32-bit hashes, in first-seen order, in typed arrays reused from
 * text to text. SimHash weighs them; the store indexes them. No string is made per token.
 */
export class TokenSpans {
  /** How many distinct tokens the last read found. */
  n = 0;
  starts = new Int32Array(0);
  lens = new Int32Array(0);
  counts = new Int32Array(0);
  /** tokenHash1 and tokenHash2 of each. */
  h1 = new Int32Array(0);
  h2 = new Int32Array(0);
  /** Open addressing: index + 1 of the token in a slot, valid when the slot's stamp is the read's. */
  private table = new Int32Array(0);
  private stamps = new Uint32Array(0);
  private stamp = 0;

  /**
   * Reads the tokens of `joined` (separated by one or more spaces). With `skipFigures`, tokens of
   * digits, '.', ',' and '%' only are left out. Two tokens are one when their characters are.
   */
  read(joined: string, skipFigures: boolean): number {
    const len = joined.length;
    // A token is at least one character and a space: at most (length + 1) / 2 of them.
    this.reserve((len + 1) >> 1);
    const { table, stamps, starts, lens, counts, h1: his, h2: los } = this;
    const stamp = this.nextStamp();
    const mask = table.length - 1;
    let n = 0;
    let i = 0;
    while (i < len) {
      if (joined.charCodeAt(i) === SPACE) {
        i++;
        continue;
      }
      const from = i;
      let h1 = H1_SEED;
      let h2 = H2_SEED;
      let figure = true;
      for (; i < len; i++) {
        const c = joined.charCodeAt(i);
        if (c === SPACE) break;
        h1 = step1(h1, c);
        h2 = step2(h2, c);
        if (figure && !isFigureChar(c)) figure = false;
      }
      if (figure && skipFigures) continue;
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
    return (this.n = n);
  }

  /** Distinct token k of the last read of `joined`, as a string. */
  token(joined: string, k: number): string {
    return joined.slice(this.starts[k]!, this.starts[k]! + this.lens[k]!);
  }

  private reserve(n: number): void {
    // A table at most half full keeps probe runs short.
    let size = this.table.length || 256;
    while (size < 2 * n) size *= 2;
    if (size !== this.table.length) {
      this.table = new Int32Array(size);
      this.stamps = new Uint32Array(size);
      this.stamp = 0;
    }
    if (this.counts.length < n) {
      this.starts = new Int32Array(n);
      this.lens = new Int32Array(n);
      this.counts = new Int32Array(n);
      this.h1 = new Int32Array(n);
      this.h2 = new Int32Array(n);
    }
  }

  private nextStamp(): number {
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    return this.stamp;
  }
}

const SPACE = 0x20;

/** A character of a figure: digits, '.', ',' and '%'. */
function isFigureChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2c || c === 0x25;
}

function sameChars(text: string, a: number, b: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (text.charCodeAt(a + j) !== text.charCodeAt(b + j)) return false;
  return true;
}

/** The first of a token's two 32-bit FNV-1a variants (with a final avalanche, so short tokens spread over all bits). */
export function tokenHash1(t: string): number {
  let h = H1_SEED;
  for (let j = 0; j < t.length; j++) h = step1(h, t.charCodeAt(j));
  return final1(h);
}

/** The second variant. */
export function tokenHash2(t: string): number {
  let h = H2_SEED;
  for (let j = 0; j < t.length; j++) h = step2(h, t.charCodeAt(j));
  return final2(h);
}

const H1_SEED = 0x811c9dc5;
const H2_SEED = 0x01000193 ^ 0x5bd1e995;

function step1(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}

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
