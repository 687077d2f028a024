import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenSpans, tokenHash1, tokenHash2 } from '../../src/text/token-spans.ts';

describe('TokenSpans', () => {
  it('reads the distinct tokens of a joined form with their counts and hashes, in first-seen order', () => {
    const spans = new TokenSpans();
    const joined = ' 食堂 32名  呕吐 食堂 32 1,000 食堂 ';
    const n = spans.read(joined, false);
    const read = Array.from({ length: n }, (_, k) => [spans.token(joined, k), spans.counts[k], spans.h1[k], spans.h2[k]]);
    expect(read).toEqual(
      [['食堂', 3], ['32名', 1], ['呕吐', 1], ['32', 1], ['1,000', 1]].map(([t, c]) => [t, c, tokenHash1(t as string), tokenHash2(t as string)]),
    );
    // Figures alone (digits, '.', ',', '%') are left out when asked; 32名 is not a figure.
    expect(spans.read(joined, true)).toBe(3);
    expect(spans.token(joined, 1)).toBe('32名');
  });

  it('counts as a Map of the split tokens does, text after text with the same buffers', () => {
    const spans = new TokenSpans();
    const token = fc.oneof(fc.constantFrom('食堂', '呕吐', '𠮷', '3.5%', 'ICU'), fc.string({ minLength: 1, maxLength: 3 }).filter((t) => !t.includes(' ')));
    fc.assert(
      fc.property(fc.array(token, { maxLength: 200 }), (tokens) => {
        const joined = tokens.join(' ');
        const expected = new Map<string, number>();
        for (const t of tokens) expected.set(t, (expected.get(t) ?? 0) + 1);
        const n = spans.read(joined, false);
        expect(new Map(Array.from({ length: n }, (_, k) => [spans.token(joined, k), spans.counts[k]!]))).toEqual(expected);
        expect(Array.from({ length: n }, (_, k) => spans.token(joined, k))).toEqual([...expected.keys()]);
      }),
      { numRuns: 500 },
    );
  });
});
