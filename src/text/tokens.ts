/**
 * A text's tokens as a ScoredItem carries them: one string, the tokens joined by single spaces.
 * The segmenter's tokens never hold whitespace (segment.ts splits them there), so the joined form
 * gives the list back exactly. One string instead of hundreds per item: the process stage's
 * young-generation collections copied every token of a batch until it was published (about a
 * fifth of the stage's time), and a list of strings cost several times more to encode as JSON on
 * the bus and to parse back than one string. The store indexes the joined form as it is (FTS5's
 * and Elasticsearch's tokenizers split on spaces).
 */
export type JoinedTokens = string;

const SPACE = 0x20;

/** Joins a segmenter's tokens (none empty, none holding whitespace). */
export function joinTokens(tokens: readonly string[]): JoinedTokens {
  return tokens.join(' ');
}

/** The list a joined form holds (an older record's list is returned as it is). */
export function splitTokens(joined: JoinedTokens | readonly string[]): string[] {
  if (typeof joined !== 'string') return [...joined];
  return joined.split(' ').filter((t) => t !== '');
}

/** How many tokens a joined form holds, without splitting it. */
export function tokenCount(joined: JoinedTokens): number {
  let n = 0;
  let inToken = false;
  for (let i = 0; i < joined.length; i++) {
    const space = joined.charCodeAt(i) === SPACE;
    if (!space && !inToken) n++;
    inToken = !space;
  }
  return n;
}

/**
 * Records written before tokens were joined (bus messages in flight across an upgrade, stored
 * documents, Elasticsearch sources) carry a list: the joined form of either.
 */
export function asJoinedTokens(tokens: JoinedTokens | readonly string[]): JoinedTokens {
  return typeof tokens === 'string' ? tokens : tokens.flatMap((t) => splitTokens(t.replace(/\s+/g, ' '))).join(' ');
}

/**
 * The distinct tokens of a joined form, joined, in first-seen order: what the full-text index
 * needs. Read in place and copied into one buffer: splitting into strings and a Set cost about
 * 40 µs per item on the store's thread, this about a fifth of that.
 */
export function distinctTokens(joined: JoinedTokens): JoinedTokens {
  const len = joined.length;
  if (len === 0) return '';
  const d = dedupeScratch(len);
  const { table, stamps, starts, lens, out } = d;
  const stamp = (d.stamp = (d.stamp + 1) >>> 0 || restamp(d));
  const mask = table.length - 1;
  let n = 0;
  let w = 0;
  let i = 0;
  while (i < len) {
    if (joined.charCodeAt(i) === SPACE) {
      i++;
      continue;
    }
    const from = i;
    let h = 0x811c9dc5;
    for (; i < len; i++) {
      const c = joined.charCodeAt(i);
      if (c === SPACE) break;
      h = Math.imul(h ^ c, 0x01000193);
    }
    const tokenLen = i - from;
    let at = (h ^ (h >>> 15)) & mask;
    for (;;) {
      if (stamps[at] !== stamp) {
        stamps[at] = stamp;
        table[at] = n;
        starts[n] = from;
        lens[n] = tokenLen;
        n++;
        if (w > 0) out[w++] = SPACE;
        for (let j = from; j < i; j++) out[w++] = joined.charCodeAt(j);
        break;
      }
      const k = table[at]!;
      if (lens[k] === tokenLen && sameChars(joined, starts[k]!, from, tokenLen)) break;
      at = (at + 1) & mask;
    }
  }
  return w === len ? joined : fromCodes(out, w);
}

/** The first `n` code units as a string, lone surrogates included (a TextDecoder would replace them). */
function fromCodes(codes: Uint16Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, codes.subarray(i, Math.min(n, i + 8192)) as unknown as number[]);
  return s;
}

interface DedupeScratch {
  table: Int32Array;
  stamps: Uint32Array;
  stamp: number;
  starts: Int32Array;
  lens: Int32Array;
  out: Uint16Array;
}
let dedupe: DedupeScratch | null = null;

function dedupeScratch(len: number): DedupeScratch {
  if (dedupe && dedupe.out.length >= len) return dedupe;
  let size = 1024;
  while (size < len) size *= 2;
  // At most (len + 1) / 2 tokens; a table of 2 × len slots stays at most a quarter full.
  return (dedupe = {
    table: new Int32Array(size * 2),
    stamps: new Uint32Array(size * 2),
    stamp: 0,
    starts: new Int32Array(size),
    lens: new Int32Array(size),
    out: new Uint16Array(size),
  });
}

function restamp(d: DedupeScratch): number {
  d.stamps.fill(0);
  return (d.stamp = 1);
}

function sameChars(text: string, a: number, b: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (text.charCodeAt(a + j) !== text.charCodeAt(b + j)) return false;
  return true;
}
