import { asciiLower } from '../text/normalise.ts';
import { Automaton } from './automaton.ts';

/** One place where a term occurs, with every payload registered under that term. */
export interface TermMatch<P> {
  start: number;
  end: number;
  term: string;
  payloads: readonly P[];
}

/**
 * One Aho–Corasick automaton over every term of every rule (plus exclusions, negation cues and
 * calendar focus terms), so a text is scanned once however many rules there are. Terms and text
 * are compared with ASCII letters lower-cased; offsets are UTF-16 indices into the text as given.
 */
export class TermMatcher<P> {
  private readonly automaton: Automaton;
  private readonly payloads = new Map<string, P[]>();
  private readonly byIndex: P[][];

  constructor(entries: Iterable<readonly [term: string, payload: P]>) {
    for (const [term, payload] of entries) {
      if (!term) continue;
      const key = asciiLower(term);
      const list = this.payloads.get(key);
      if (list) list.push(payload);
      else this.payloads.set(key, [payload]);
    }
    this.automaton = new Automaton([...this.payloads.keys()]);
    this.byIndex = [...this.payloads.values()];
  }

  get size(): number {
    return this.payloads.size;
  }

  /** Every occurrence, overlaps included, ordered by start then longest first. */
  match(text: string): TermMatch<P>[] {
    if (this.payloads.size === 0 || !text) return [];
    const out: TermMatch<P>[] = [];
    this.automaton.scan(text, (t, start, end) => {
      out.push({ start, end, term: text.slice(start, end), payloads: this.byIndex[t]! });
    });
    out.sort(byStartThenLongest);
    return out;
  }
}

function byStartThenLongest(a: { start: number; end: number }, b: { start: number; end: number }): number {
  return a.start - b.start || b.end - a.end;
}

/**
 * Leftmost-longest selection: scanning left to right, keep a span when it does not overlap the
 * last kept one, preferring the longest at each start. So 「食物中毒」 wins over the 「中毒」
 * inside it, and an exclusion 「广告」 inside a term 「虚假广告」 is shadowed by the term.
 */
export function leftmostLongest<T extends { start: number; end: number }>(spans: readonly T[]): T[] {
  const sorted = [...spans].sort(byStartThenLongest);
  const kept: T[] = [];
  let lastEnd = -1;
  for (const s of sorted) {
    if (s.start >= lastEnd) {
      kept.push(s);
      lastEnd = s.end;
    }
  }
  return kept;
}
