import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Automaton } from '../../src/scoring/automaton.ts';

/** Every occurrence of every term, by brute force: the specification the automaton must meet. */
function naive(terms: string[], text: string): [number, number, number][] {
  const out: [number, number, number][] = [];
  const lower = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const first = new Map<string, number>();
  terms.forEach((t, ti) => {
    const lt = t.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (!lt || first.has(lt)) return;
    first.set(lt, ti);
    for (let i = lower.indexOf(lt); i >= 0; i = lower.indexOf(lt, i + 1)) out.push([ti, i, i + lt.length]);
  });
  return out.sort((a, b) => a[1] - b[1] || a[2] - b[2] || a[0] - b[0]);
}

function scan(terms: string[], text: string): [number, number, number][] {
  const out: [number, number, number][] = [];
  new Automaton(terms).scan(text, (t, s, e) => out.push([t, s, e]));
  return out.sort((a, b) => a[1] - b[1] || a[2] - b[2] || a[0] - b[0]);
}

describe('Automaton', () => {
  it('finds overlapping and nested terms in Chinese text', () => {
    const terms = ['食物中毒', '中毒', '毒', '学校食堂', '食堂', '呕吐'];
    expect(scan(terms, '某学校食堂发生食物中毒，学生呕吐')).toEqual(naive(terms, '某学校食堂发生食物中毒，学生呕吐'));
    expect(scan(terms, '某学校食堂发生食物中毒，学生呕吐').map(([t]) => terms[t])).toEqual(['学校食堂', '食堂', '食物中毒', '中毒', '毒', '呕吐']);
  });

  it('folds ASCII letters so an upper-case text matches a lower-case term and the reverse', () => {
    expect(scan(['ppm', 'SC证'], 'PPM超标，无sc证')).toEqual([
      [0, 0, 3],
      [1, 7, 10],
    ]);
  });

  it('follows failure links across shared prefixes (ushers / she / he / hers)', () => {
    const terms = ['he', 'she', 'his', 'hers'];
    expect(scan(terms, 'ushers')).toEqual(naive(terms, 'ushers'));
  });

  it('matches nothing when no term is given or the text is empty', () => {
    expect(scan([], '食物中毒')).toEqual([]);
    expect(scan(['中毒'], '')).toEqual([]);
  });

  it('agrees with brute force on random terms and texts over a small alphabet', () => {
    const ch = fc.constantFrom('食', '物', '中', '毒', 'a', 'B', 'b', '，');
    const word = fc.array(ch, { minLength: 1, maxLength: 4 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 30 }), fc.array(ch, { maxLength: 60 }).map((a) => a.join('')), (terms, text) => {
        expect(scan(terms, text)).toEqual(naive(terms, text));
      }),
      { numRuns: 400 },
    );
  });

  it('packs a large dictionary (thousands of terms with shared prefixes) correctly', () => {
    const terms = Array.from({ length: 5000 }, (_, i) => `品牌${i}号` + (i % 3 ? '食品' : ''));
    const text = '抽检发现品牌123号食品与品牌4999号不合格，品牌77号食品';
    expect(scan(terms, text)).toEqual(naive(terms, text));
  });
});
