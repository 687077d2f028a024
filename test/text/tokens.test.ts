import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { asJoinedTokens, distinctTokens, joinTokens, splitTokens, tokenCount } from '../../src/text/tokens.ts';

/** What a segmenter gives: tokens neither empty nor holding whitespace. */
const token = fc.oneof(fc.constantFrom('食堂', '呕吐', '23', 'ICU', '𠮷', '3.5%'), fc.string({ minLength: 1, maxLength: 4 }).filter((t) => !/\s/u.test(t)));

describe('joined tokens', () => {
  it('give back the list they join, and count it without splitting', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 50 }), (tokens) => {
        const joined = joinTokens(tokens);
        expect(splitTokens(joined)).toEqual(tokens);
        expect(tokenCount(joined)).toBe(tokens.length);
      }),
      { numRuns: 500 },
    );
    expect(splitTokens('')).toEqual([]);
    expect(tokenCount('')).toBe(0);
    expect(tokenCount('  食堂  呕吐 ')).toBe(2);
  });

  it('keep each distinct token once, in first-seen order, for the full-text index', () => {
    expect(distinctTokens('食堂 学生 食堂 呕吐 学生')).toBe('食堂 学生 呕吐');
    expect(distinctTokens('')).toBe('');
    expect(distinctTokens('  食堂  呕吐 ')).toBe('食堂 呕吐');
    const reference = (joined: string) => [...new Set(joined.split(' ').filter(Boolean))].join(' ');
    // Few distinct tokens so that they repeat; lone surrogates must come back as they were.
    const piece = fc.oneof(token, fc.constantFrom('\ud800', 'a\udc00', '食'), fc.constantFrom(' ', '  '));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 300 }), (parts) => {
        const joined = parts.join(' ');
        expect(distinctTokens(joined)).toBe(reference(joined));
      }),
      { numRuns: 500 },
    );
    // Longer than the first buffer, and than one chunk of the string it is built from.
    const long = Array.from({ length: 6000 }, (_, i) => `词${i % 4000}`).join(' ');
    expect(distinctTokens(long)).toBe(reference(long));
    expect(distinctTokens('食堂 学生')).toBe('食堂 学生');
  });

  it('join the list an older record carries, splitting a token at whitespace', () => {
    expect(asJoinedTokens(['食堂', '呕吐'])).toBe('食堂 呕吐');
    expect(asJoinedTokens(['iPhone\u00a015', '', ' 呕吐 '])).toBe('iPhone 15 呕吐');
    expect(asJoinedTokens('食堂 呕吐')).toBe('食堂 呕吐');
    expect(splitTokens(['食堂', '呕吐'])).toEqual(['食堂', '呕吐']);
  });
});
