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

/** The distinct tokens of a joined form, joined, in first-seen order: what the full-text index needs. */
export function distinctTokens(joined: JoinedTokens): JoinedTokens {
  return [...new Set(splitTokens(joined))].join(' ');
}
