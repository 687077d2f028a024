import { TokenSpans } from './token-spans.ts';

/**
 * A text's tokens as a ScoredItem carries them: one string, the tokens joined by single spaces.
 * The segmenter's tokens never hold whitespace (segment.ts splits them there), so the joined form
 * gives the list back exactly. One string instead of hundreds per item: the process stage's
 * young-generation collections copied every token of a batch until it was published (with one
 * string they took about a quarter less time), and a list of strings cost more to encode as JSON
 * on the bus and to parse back than one string (encoding about a third less). The store indexes the joined form as it is (FTS5's
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

/** `record` with its tokens in the joined form: itself when they already are, a copy when it carries an older list. */
export function withJoinedTokens<T extends { tokens: JoinedTokens }>(record: T): T {
  return typeof record.tokens === 'string' ? record : { ...record, tokens: asJoinedTokens(record.tokens as readonly string[]) };
}

/**
 * The distinct tokens of a joined form, joined, in first-seen order: what the full-text index
 * needs. Read in place and copied into one buffer: splitting into strings and a Set cost about
 * 40 µs per item on the store's thread, this about a third of that.
 */
export function distinctTokens(joined: JoinedTokens): JoinedTokens {
  const n = spans.read(joined, false);
  const { starts, lens } = spans;
  if (out.length < joined.length) out = new Uint16Array(Math.max(joined.length, 2 * out.length));
  let w = 0;
  for (let k = 0; k < n; k++) {
    if (k > 0) out[w++] = SPACE;
    for (let j = starts[k]!, end = j + lens[k]!; j < end; j++) out[w++] = joined.charCodeAt(j);
  }
  return w === joined.length ? joined : fromCodes(out, w);
}

const spans = new TokenSpans();
let out = new Uint16Array(1024);

/** The first `n` code units as a string, lone surrogates included (a TextDecoder would replace them). */
function fromCodes(codes: Uint16Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, codes.subarray(i, Math.min(n, i + 8192)) as unknown as number[]);
  return s;
}
