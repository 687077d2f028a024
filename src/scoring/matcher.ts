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

  /** The distinct terms (ASCII lower-cased), indexed as collect() reports them. */
  get keys(): readonly string[] {
    return [...this.payloads.keys()];
  }

  /** Every payload registered under term index `t`. */
  payloadsOf(t: number): readonly P[] {
    return this.byIndex[t]!;
  }

  /**
   * match() without objects: fills `buf` with every occurrence as (term index, start, end) and
   * `buf.order` with their indices ordered by start then longest first, as match() orders them.
   * The scoring hot path uses it; the buffer is reused from item to item.
   */
  collect(text: string, buf: MatchBuffer): number {
    buf.n = 0;
    if (this.payloads.size === 0 || !text) return 0;
    this.automaton.scan(text, buf.push);
    const { start, end, order, n } = buf;
    // The scan reports by end offset; terms are short, so this is nearly sorted already.
    for (let i = 0; i < n; i++) {
      const s = start[i]!;
      const e = end[i]!;
      let j = i - 1;
      while (j >= 0 && (start[order[j]!]! > s || (start[order[j]!]! === s && end[order[j]!]! < e))) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = i;
    }
    return n;
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

/** Growable columns of one text's matches, reused across texts. */
export class MatchBuffer {
  term = new Int32Array(256);
  start = new Int32Array(256);
  end = new Int32Array(256);
  order = new Int32Array(256);
  n = 0;
  readonly push = (t: number, s: number, e: number): void => {
    if (this.n === this.term.length) this.grow();
    const i = this.n++;
    this.term[i] = t;
    this.start[i] = s;
    this.end[i] = e;
  };

  private grow(): void {
    const size = this.term.length * 2;
    const more = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.term = more(this.term);
    this.start = more(this.start);
    this.end = more(this.end);
    this.order = new Int32Array(size);
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
