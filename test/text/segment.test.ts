import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createSegmenter, keepMeaningful, userDictionaryLines, SEGMENTER_BACKENDS } from '../../src/text/segment.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('segmenter', () => {
  for (const backend of SEGMENTER_BACKENDS) {
    describe(backend, () => {
      it('cuts Chinese text into words and drops punctuation and spaces', () => {
        const seg = createSegmenter({ backend });
        const tokens = seg.cut('某小学食堂学生午餐后集体呕吐腹泻，23名学生送医。');
        expect(seg.name).toBe(backend);
        expect(tokens).toContain('食堂');
        expect(tokens).toContain('呕吐');
        expect(tokens).toContain('23');
        expect(tokens).not.toContain('，');
        expect(tokens).not.toContain('。');
      });

      it('keeps user-dictionary words whole', () => {
        const t = tempDir();
        mkdirSync(join(t.dir, 'dict'));
        writeFileSync(join(t.dir, 'dict', 'food.dict'), '# 食品安全词\n三防设施 200000 n\n索票索证\n');
        const seg = createSegmenter({ backend, dictDir: join(t.dir, 'dict'), extraWords: ['进口冻品'] });
        const tokens = seg.cut('检查发现该店未落实索票索证制度，三防设施缺失，销售进口冻品');
        expect(tokens).toContain('三防设施');
        expect(tokens).toContain('索票索证');
        expect(tokens).toContain('进口冻品');
        t.cleanup();
      });
    });
  }

  it('reads dictionary lines with or without a frequency and skips comments and blanks', () => {
    const t = tempDir();
    writeFileSync(join(t.dir, 'a.dict'), '# comment\n\n地沟油 1000 n\n黑作坊\n');
    writeFileSync(join(t.dir, 'ignored.txt'), '不读我\n');
    const lines = userDictionaryLines({ dictDir: t.dir, extraWords: ['黑作坊', '瘦肉精'] });
    expect(lines).toEqual(['地沟油 1000 n', '黑作坊 200000', '瘦肉精 200000']);
    t.cleanup();
  });

  it('returns exactly the library\'s tokens that hold a letter or a digit, for any text', () => {
    const { Jieba } = createRequire(import.meta.url)('@node-rs/jieba') as typeof import('@node-rs/jieba');
    const { dict } = createRequire(import.meta.url)('@node-rs/jieba/dict') as { dict: Uint8Array };
    const raw = Jieba.withDict(dict);
    raw.loadDict(Buffer.from('进口冻品 200000\n', 'utf8'));
    const seg = createSegmenter({ extraWords: ['进口冻品'] });
    // Letters and digits of every script, astral ones, marks alone, symbols and spaces.
    const piece = fc.oneof(
      fc.constantFrom('食堂', '进口冻品', '呕吐', '23', '３．５％', 'ICU', 'ｍｌ', 'é', 'e\u0301', '\u0301', '٣', 'Ⅻ', '𠮷', '𝟘', '😀'),
      fc.constantFrom('，', '。', ' ', '\n', '\t', '\u3000', '—', '…', '/', '%', '\ud800', '\udc00', '_'),
      fc.string({ unit: 'grapheme', maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        const tokens = seg.cut(text);
        expect(tokens).toEqual(raw.cut(text, true).filter((t) => /[\p{L}\p{N}]/u.test(t)));
        for (const t of tokens) expect(t).not.toMatch(/\s/u);
      }),
      { numRuns: 1500 },
    );
  });

  it('splits a token that holds whitespace, so that tokens joined by spaces give the list back', () => {
    // jieba never returns one (it splits at whitespace itself); the guarantee must not rest on that.
    expect(keepMeaningful(['食堂', 'iPhone\u00a015', '，', '呕吐', 'a \u3000b', '\u3000', '𠮷 吃'])).toEqual(['食堂', 'iPhone', '15', '呕吐', 'a', 'b', '𠮷', '吃']);
    expect(keepMeaningful(['食堂', '，', '呕吐'])).toEqual(['食堂', '呕吐']);
  });

  it('refuses an unknown backend by name', () => {
    expect(() => createSegmenter({ backend: 'hanlp' as never })).toThrow(/unknown segmenter 'hanlp'/);
  });
});
