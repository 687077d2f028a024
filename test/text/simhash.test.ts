import { describe, it, expect } from 'vitest';
import { simhash, hamming } from '../../src/text/simhash.ts';
import { createSegmenter } from '../../src/text/segment.ts';

const seg = createSegmenter();
const sh = (t: string) => simhash(seg.cut(t));

describe('simhash', () => {
  const original =
    '11月27日中午，于都县某中心小学食堂供应午餐后，陆续有32名学生出现呕吐、腹痛等症状，已被送往县人民医院救治，目前均无生命危险。县市场监管局已封存留样食品，对食堂进行停业整顿，具体原因正在调查中。';

  it('is 16 hex digits and deterministic', () => {
    expect(sh(original)).toMatch(/^[0-9a-f]{16}$/);
    expect(sh(original)).toBe(sh(original));
  });

  it('a repost with a tag and changed figures stays within Hamming distance 3', () => {
    const repost = '【转】' + original.replace('32名', '30余名');
    expect(hamming(sh(original), sh(repost))).toBeLessThanOrEqual(3);
    expect(hamming(sh(original), sh(original + ' '))).toBe(0);
  });

  it('a repost that also drops a sentence stays within distance 8 on a short item', () => {
    const repost = '【转】' + original.replace('32名', '30余名').replace('目前均无生命危险。', '');
    expect(hamming(sh(original), sh(repost))).toBeLessThanOrEqual(8);
  });

  it('different stories are far apart', () => {
    const other = '九江市濂溪区一家超市被查出销售过期进口冻牛肉，执法人员现场扣押冻品120公斤，并对经营者立案调查。';
    expect(hamming(sh(original), sh(other))).toBeGreaterThan(16);
    const sameCategory = '11月28日，赣州市章贡区一家餐馆后厨被发现使用地沟油，执法人员已查封该店，对负责人立案调查。';
    expect(hamming(sh(original), sh(sameCategory))).toBeGreaterThan(16);
  });

  it('hamming counts differing bits', () => {
    expect(hamming('0000000000000000', '0000000000000000')).toBe(0);
    expect(hamming('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hamming('0000000100000001', '0000000000000000')).toBe(2);
  });
});
