import { describe, it, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSegmenter, userDictionaryLines, SEGMENTER_BACKENDS } from '../../src/text/segment.ts';
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

  it('refuses an unknown backend by name', () => {
    expect(() => createSegmenter({ backend: 'hanlp' as never })).toThrow(/unknown segmenter 'hanlp'/);
  });
});
