import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MatchBuffer, TermMatcher, leftmostLongest } from '../../src/scoring/matcher.ts';

describe('TermMatcher', () => {
  const m = new TermMatcher<string>([
    ['中毒', 'poison'],
    ['食物中毒', 'poison-long'],
    ['学生', 'place'],
    ['ICU', 'severe'],
    ['呕吐', 'harm'],
    ['呕吐', 'harm-again'],
  ]);

  it('finds every occurrence with UTF-16 offsets into the text', () => {
    const text = '多名学生呕吐，疑似食物中毒';
    const found = m.match(text).map((x) => [x.term, x.start, x.end]);
    expect(found).toEqual([
      ['学生', 2, 4],
      ['呕吐', 4, 6],
      ['食物中毒', 9, 13],
      ['中毒', 11, 13],
    ]);
    for (const x of m.match(text)) expect(text.slice(x.start, x.end)).toBe(x.term);
  });

  it('collects the same occurrences in the same order as match(), into a reused buffer that grows', () => {
    const buf = new MatchBuffer();
    const keys = m.keys;
    const pieces = ['食物', '中毒', '学生', '呕吐', 'icu', 'ICU', '，', '物中', '毒'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 200 }), (parts) => {
        const text = parts.join('');
        const n = m.collect(text, buf);
        const got = Array.from({ length: n }, (_, k) => {
          const i = buf.order[k]!;
          return [keys[buf.term[i]!], buf.start[i], buf.end[i], m.payloadsOf(buf.term[i]!)];
        });
        expect(got).toEqual(m.match(text).map((x) => [x.term.toLowerCase(), x.start, x.end, x.payloads]));
      }),
      { numRuns: 200 },
    );
    expect(m.collect('', buf)).toBe(0);
  });

  it('keeps every payload registered under one term', () => {
    expect(m.match('呕吐')[0]!.payloads).toEqual(['harm', 'harm-again']);
  });

  it('matches ASCII letters case-insensitively and reports the text as written', () => {
    const [hit] = m.match('转入icu治疗');
    expect(hit).toMatchObject({ term: 'icu', start: 2, end: 5, payloads: ['severe'] });
  });

  it('counts offsets in UTF-16 units past astral characters', () => {
    const [hit] = m.match('😀学生');
    expect(hit).toMatchObject({ start: 2, end: 4 });
  });

  it('finds nothing in an empty text or with no terms', () => {
    expect(m.match('')).toEqual([]);
    expect(new TermMatcher([]).match('学生')).toEqual([]);
  });
});

describe('leftmostLongest', () => {
  it('prefers the longer term at the same start and drops overlaps to its right', () => {
    const spans = [
      { start: 0, end: 2, t: '学生' },
      { start: 0, end: 4, t: '学生食堂' },
      { start: 2, end: 4, t: '食堂' },
      { start: 4, end: 6, t: '呕吐' },
    ];
    expect(leftmostLongest(spans).map((s) => s.t)).toEqual(['学生食堂', '呕吐']);
  });

  it('lets the earlier span win when two overlap from different starts', () => {
    const spans = [
      { start: 1, end: 4, t: 'b' },
      { start: 0, end: 2, t: 'a' },
    ];
    expect(leftmostLongest(spans).map((s) => s.t)).toEqual(['a']);
  });
});
