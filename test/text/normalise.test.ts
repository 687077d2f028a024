import { describe, expect, it } from 'vitest';
import { asciiLower, normalise, normaliseItemText } from '../../src/text/normalise.ts';

describe('normalise', () => {
  it('folds full-width letters and digits to ASCII but keeps Chinese punctuation', () => {
    expect(normalise('ＡＢＣ１２３，学校：呕吐！')).toBe('ABC123，学校：呕吐！');
  });

  it('folds full-width numeric symbols so amounts and percentages read as ASCII', () => {
    expect(normalise('超标３．５％')).toBe('超标3.5%');
  });

  it('converts traditional to simplified Chinese', () => {
    expect(normalise('學校食堂發現過期食品，多名學生嘔吐腹瀉')).toBe('学校食堂发现过期食品，多名学生呕吐腹泻');
  });

  it('leaves simplified words alone that a phrase-level converter would rewrite', () => {
    expect(normalise('3批次不合格，饿了么小程序')).toBe('3批次不合格，饿了么小程序');
  });

  it('removes zero-width and control characters that split words invisibly', () => {
    expect(normalise('呕\u200b吐\u0007腹\ufeff泻')).toBe('呕吐腹泻');
  });

  it('collapses whitespace runs, keeping one line break where the run had one', () => {
    expect(normalise('  学校\u3000\u3000食堂 \t 呕吐\r\n\n  腹泻  ')).toBe('学校 食堂 呕吐\n腹泻');
  });

  it('is idempotent', () => {
    const once = normalise('臺灣 ＩＣＵ  送醫\n\n搶救');
    expect(normalise(once)).toBe(once);
  });

  it('returns an empty string for empty input', () => {
    expect(normalise('')).toBe('');
  });
});

describe('normaliseItemText', () => {
  it('joins the normalised title and body with one line break', () => {
    expect(normaliseItemText(' 學校 ', '多名學生嘔吐')).toBe('学校\n多名学生呕吐');
  });
});

describe('asciiLower', () => {
  it('lower-cases ASCII only and keeps the length', () => {
    const s = 'ICU病房İ';
    expect(asciiLower(s)).toBe('icu病房İ');
    expect(asciiLower(s)).toHaveLength(s.length);
  });
});
