import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as OpenCC from 'opencc-js';
import { ConverterBuilder } from 'opencc-js/core';
import {
  BARRIER,
  UNSAFE,
  asciiLower,
  convertStretches,
  normalise,
  normaliseItemText,
  openccClasses,
  toSimplified as keepMainlandBad,
} from '../../src/text/normalise.ts';

/**
 * normalise as it was before its steps learnt to skip themselves: every step on every text. The
 * fast normalise must return exactly this.
 */
const reference = (() => {
  // opencc hk→cn with mainland 坏 kept (see toSimplified): the conversion itself is not under test here.
  const toSimplified = keepMainlandBad;
  const FOLD_SYMBOLS = new Set(['＃', '％', '＆', '＋', '－', '．', '／', '＝', '＠', '＿', '～']);
  const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;
  const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
  const WHITESPACE_RUN = /[\s\u3000\u00A0]+/g;
  function foldWidth(text: string): string {
    let out = '';
    let changed = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const isAlnum = (c >= 0xff10 && c <= 0xff19) || (c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a);
      if (isAlnum || FOLD_SYMBOLS.has(text[i]!)) {
        out += String.fromCharCode(c - 0xfee0);
        changed = true;
      } else {
        out += text[i];
      }
    }
    return changed ? out : text;
  }
  return (text: string): string => {
    if (!text) return '';
    let s = text.replace(INVISIBLE, '').replace(CONTROL, '');
    s = foldWidth(s);
    s = toSimplified(s);
    s = s.replace(WHITESPACE_RUN, (run) => (run.includes('\n') || run.includes('\r') ? '\n' : ' '));
    return s.trim();
  };
})();

const hk2s = (OpenCC.Locale.configs as Record<string, unknown>)['hk2s'] as {
  normalizationChain: string[][];
  segmentation: string[];
  conversionChain: string[][];
};
/** Every key and value of the dictionaries behind the hk → cn converter: traditional characters, HK variants, phrases. */
const openccWords = [...hk2s.normalizationChain.flat(), ...hk2s.segmentation, ...hk2s.conversionChain.flat()].flatMap((d) =>
  d.split('|').flatMap((entry) => entry.split(' ').slice(0, 2)),
);

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

  it('converts traditional characters anywhere in a long simplified text', () => {
    const simplified = '九江市一家超市被查出销售过期冻肉，执法人员现场扣押。';
    expect(normalise(`${simplified.repeat(20)}學校發現${simplified.repeat(20)}\n嘔吐`)).toBe(
      `${simplified.repeat(20)}学校发现${simplified.repeat(20)}\n呕吐`,
    );
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

  it('returns exactly what running every step on every text returns, for any text', () => {
    const piece = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...'学校食堂发现过期食品多名学生呕吐腹泻坏了吃饭一不以的是在有了么于后里面干发台复') },
      { weight: 4, arbitrary: fc.constantFrom(...openccWords) },
      { weight: 2, arbitrary: fc.constantFrom('，', '。', '、', '：', '（', '）', '“', '”', '！', '\n', ' ', 'a', 'Z', '7', '.', '%') },
      { weight: 1, arbitrary: fc.constantFrom('\t', '\r\n', '\r', '\u3000', '\u00a0', '  ', ' \n ', '\u2028', '\u000b') },
      { weight: 1, arbitrary: fc.constantFrom('\u200b', '\ufeff', '\u00ad', '\u0007', '\u0085', '\u202e') },
      { weight: 1, arbitrary: fc.constantFrom('Ａ', 'ｚ', '１', '％', '．', '＃', '～', '，') },
      { weight: 1, arbitrary: fc.constantFrom('𠮷', '𤋮', '⿰', '⿱', '\ud800', '\udc00', '豈', '更') },
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        expect(normalise(text)).toBe(reference(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('opencc only where it may change something', () => {
  const classes = openccClasses(hk2s)!;
  const cls = (ch: string) => classes[ch.charCodeAt(0)]!;

  it('marks traditional characters as needing conversion, and plain simplified text and punctuation as not', () => {
    for (const ch of '學發過臺嘔醫') expect(cls(ch) & UNSAFE, ch).toBe(UNSAFE);
    for (const ch of '学校食堂发现过期食品多名学生呕吐腹泻') expect(cls(ch) & UNSAFE, ch).toBe(0);
    for (const ch of '，。\n 0a') expect(cls(ch) & BARRIER, JSON.stringify(ch)).toBe(BARRIER);
  });

  it('hands opencc only the stretches between punctuation that hold such a character, nearby ones in one call', () => {
    const toSimplified = OpenCC.Converter({ from: 'hk', to: 'cn' });
    const seen: string[] = [];
    const convert = (t: string) => (seen.push(t), toSimplified(t));
    expect(convertStretches('学校食堂，學校發現過期食品。多名学生呕吐', classes, convert)).toBe('学校食堂，学校发现过期食品。多名学生呕吐');
    expect(seen).toEqual(['學校發現過期食品']);
    seen.length = 0;
    const far = '多名学生呕吐，'.repeat(20);
    expect(convertStretches(`學校，醫院。${far}嘔吐`, classes, convert)).toBe(`学校，医院。${far}呕吐`);
    // '院' and '吐' are in no opencc key, so the stretches stop before them.
    expect(seen).toEqual(['學校，醫', '嘔']);
  });

  const converterFor = (cfg: object) => ConverterBuilder({ from: { hk: [] }, to: { cn: [] }, configs: { hk2s: cfg as never } })({ from: 'hk', to: 'cn' });

  it('converts a phrase whose replacement has another length, though each of its characters alone stays', () => {
    const cfg = { segmentation: ['q q'], conversionChain: [['ab c|a a|b b']] };
    const convert = converterFor(cfg);
    expect(convert('xaby')).toBe('xcy');
    expect(convertStretches('xaby', openccClasses(cfg)!, convert)).toBe('xcy');
  });

  it('does not split at a character that only a segmentation phrase holds', () => {
    // Segmented whole, 'abx' lets 'ab' convert; split at 'x', 'ab' would be cut into 'a' + 'b'.
    const cfg = { segmentation: ['abx abx|b b'], conversionChain: [['ab Z']] };
    const convert = converterFor(cfg);
    expect(convert('abx')).toBe('Zx');
    expect(convertStretches('abx', openccClasses(cfg)!, convert)).toBe('Zx');
  });

  it('gives what the converter gives, for any dictionaries and any text', () => {
    // Small alphabets so that keys overlap, chain and occur in the texts; 'x' is only in
    // segmentation keys, 'y' and '，' are in no key (barriers), '𝒜' is outside the BMP, '⿰' starts
    // a description sequence.
    const keyChar = fc.constantFrom(...'abcde𝒜');
    const valueChar = fc.constantFrom(...'abcdef𝒜');
    const word = (ch: fc.Arbitrary<string>, min: number) => fc.array(ch, { minLength: min, maxLength: 3 }).map((a) => a.join(''));
    const dictOf = (key: fc.Arbitrary<string>) =>
      fc.array(fc.tuple(word(key, 1), word(valueChar, 0)), { minLength: 1, maxLength: 8 }).map((pairs) =>
        pairs.map(([k, v]) => `${k} ${v}`).join('|'),
      );
    const group = fc.array(dictOf(keyChar), { minLength: 1, maxLength: 2 });
    const config = fc.record({
      normalizationChain: fc.array(group, { maxLength: 1 }),
      segmentation: fc.array(dictOf(fc.constantFrom(...'abx')), { minLength: 1, maxLength: 1 }),
      conversionChain: fc.array(group, { minLength: 1, maxLength: 3 }),
    });
    const text = fc.array(fc.constantFrom(...'abcdefxy，𝒜'.split(/(?:)/u), '⿰'), { maxLength: 24 }).map((a) => a.join(''));
    fc.assert(
      fc.property(config, fc.array(text, { minLength: 1, maxLength: 20 }), (cfg, texts) => {
        const convert = converterFor(cfg);
        const classes = openccClasses(cfg);
        expect(classes).not.toBeNull();
        for (const t of texts) expect(convertStretches(t, classes!, convert)).toBe(convert(t));
      }),
      { numRuns: 1000 },
    );
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

describe('normalise keeps mainland 坏 (opencc hk→cn would read it as 坯)', () => {
  it('「门被打坏了」 stays as written, and traditional text around it is still simplified', async () => {
    const { normalise } = await import('../../src/text/normalise.ts');
    expect(normalise('门被打坏了')).toBe('门被打坏了');
    expect(normalise('坏子弹')).toBe('坏子弹');
    expect(normalise('牛奶壞了，門店拒絕退款，蛋糕也放坏了')).toBe('牛奶坏了，门店拒绝退款，蛋糕也放坏了');
  });
});
