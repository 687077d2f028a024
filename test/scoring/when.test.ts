import { describe, expect, it } from 'vitest';
import { evaluateWhen, formatWhen, parseWhen, whenGroups, WhenSyntaxError } from '../../src/scoring/when.ts';

const holds = (src: string, present: string[]): boolean => evaluateWhen(parseWhen(src), (g) => present.includes(g));

describe('parseWhen', () => {
  it('gives not precedence over and, and over or', () => {
    expect(formatWhen(parseWhen('a or b and not c'))).toBe('a or b and not c');
    expect(holds('a or b and not c', ['a', 'c'])).toBe(true);
    expect(holds('a or b and not c', ['b', 'c'])).toBe(false);
  });

  it('honours parentheses', () => {
    expect(holds('(a or b) and c', ['a'])).toBe(false);
    expect(holds('(a or b) and c', ['b', 'c'])).toBe(true);
    expect(formatWhen(parseWhen('place and (harm or defect)'))).toBe('place and (harm or defect)');
  });

  it('accepts symbolic operators and upper-case keywords', () => {
    expect(holds('a && !b || c', ['a'])).toBe(true);
    expect(holds('a AND NOT b', ['a', 'b'])).toBe(false);
  });

  it('accepts Chinese group names', () => {
    expect(holds('场所 and 症状', ['场所', '症状'])).toBe(true);
  });

  it.each([
    ['a and', 'expected a group name'],
    ['(a or b', "expected ')'"],
    ['a b', "unexpected 'b'"],
    ['a + b', "unexpected character '+'"],
    ['', 'expected a group name'],
  ])('rejects %j with a message naming the position', (src, message) => {
    expect(() => parseWhen(src)).toThrow(WhenSyntaxError);
    expect(() => parseWhen(src)).toThrow(message);
  });
});

describe('whenGroups', () => {
  it('splits names by polarity', () => {
    const g = whenGroups(parseWhen('a and not (b or c) and not not d'));
    expect([...g.positive].sort()).toEqual(['a', 'd']);
    expect([...g.negative].sort()).toEqual(['b', 'c']);
  });
});
