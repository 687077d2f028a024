import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { simhash, hamming, jiebaIdf } from '../../src/text/simhash.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import { joinTokens } from '../../src/text/tokens.ts';

/** SimHash as first written (a Map of counts, a [hi, lo] tuple per token): the fast one must agree bit for bit. */
function referenceSimhash(tokens: readonly string[], idf: (token: string) => number = jiebaIdf): string {
  const hash64 = (s: string): [number, number] => {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ 0x5bd1e995;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 ^= h1 >>> 16; h1 = Math.imul(h1, 0x85ebca6b); h1 ^= h1 >>> 13;
    h2 ^= h2 >>> 16; h2 = Math.imul(h2, 0xc2b2ae35); h2 ^= h2 >>> 16;
    return [h1 >>> 0, h2 >>> 0];
  };
  const NUMERIC = /^[\d.,%]+$/;
  const tf = new Map<string, number>();
  for (const t of tokens) if (!NUMERIC.test(t)) tf.set(t, (tf.get(t) ?? 0) + 1);
  const v = new Float64Array(64);
  for (const [tok, n] of tf) {
    const w = n * idf(tok);
    const [hi, lo] = hash64(tok);
    for (let b = 0; b < 32; b++) {
      v[b] += (hi >>> b) & 1 ? w : -w;
      v[32 + b] += (lo >>> b) & 1 ? w : -w;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 32; b++) {
    if (v[b]! > 0) hi |= 1 << b;
    if (v[32 + b]! > 0) lo |= 1 << b;
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

const seg = createSegmenter();
const sh = (t: string) => simhash(joinTokens(seg.cut(t)));

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

  it('gives the same 64 bits as the first implementation, for any tokens joined by spaces and any weights', () => {
    // A ScoredItem's tokens: none empty, none holding whitespace (the segmenter splits there). Few
    // distinct tokens so that counts repeat; equal weights so that sums cancel to exactly 0.
    const token = fc.oneof(
      fc.constantFrom('食堂', '呕吐', '的', '学生', '32', '3.5%', '1,000', '.', '𠮷', 'ICU', '30余名', '过期', '1.2万'),
      fc.string({ minLength: 1, maxLength: 4 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }),
    ).filter((t) => !/\s/u.test(t));
    const idf = fc.oneof(
      fc.constant(jiebaIdf),
      fc.constant(() => 1),
      fc.double({ min: -5, max: 20, noNaN: true }).map((x) => () => x),
      fc.func(fc.oneof(fc.constantFrom(0, 1, 2, 0.1, 1e-300), fc.double({ noNaN: true }))),
      // Magnitudes far apart, so that sums added in another order round differently.
      fc.func(fc.constantFrom(1e16, 1, 3, 0.1, 0.2, 0.3, 1 / 3, 2 ** 53, 2 ** -30)),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 600 }), idf, (tokens, w) => {
        expect(simhash(joinTokens(tokens), w)).toBe(referenceSimhash(tokens, w));
      }),
      { numRuns: 2000 },
    );
    // Runs of spaces, and spaces at either end, separate like one.
    expect(simhash('  食堂 呕吐   学生 32 食堂 ')).toBe(referenceSimhash(['食堂', '呕吐', '学生', '32', '食堂']));
    expect(simhash('')).toBe(referenceSimhash([]));
  });

  it('keeps the first implementation\'s rounding where large weights cancel and a small one is lost', () => {
    // 1e16 + 1 rounds back to 1e16, so in SimHash's order +1e16 +1 −1e16 sums to 0: that bit is
    // clear, whatever order would give ±1. Thirty tokens of weight 0 make the item long.
    const fillers = Array.from({ length: 30 }, (_, i) => `填充${i}`);
    for (let i = 0; i < 40; i++) {
      const [big, small, big2] = [`大${i}`, `小${i}`, `大${i}乙`];
      const idf = (t: string) => (t === big || t === big2 ? 1e16 : t === small ? 1 : 0);
      const tokens = [big, small, big2, ...fillers];
      expect(simhash(joinTokens(tokens), idf)).toBe(referenceSimhash(tokens, idf));
    }
  });

  it('gives the same 64 bits as the first implementation on segmented news text', () => {
    const texts = [original, original.repeat(7), '九江市濂溪区一家超市被查出销售过期进口冻牛肉，执法人员现场扣押冻品120公斤。'.repeat(30)];
    for (const t of texts) expect(sh(t)).toBe(referenceSimhash(seg.cut(t)));
  });

  it('is unaffected by an idf function that itself computes a SimHash', () => {
    const tokens = seg.cut(original);
    const nested = (t: string) => (simhash(`内层 ${t}`) === simhash(`内层 ${t}`) ? jiebaIdf(t) : 0);
    expect(simhash(joinTokens(tokens), nested)).toBe(referenceSimhash(tokens));
  });

  it('hamming counts differing bits', () => {
    expect(hamming('0000000000000000', '0000000000000000')).toBe(0);
    expect(hamming('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hamming('0000000100000001', '0000000000000000')).toBe(2);
  });
});

describe('jiebaIdf', () => {
  it("gives every word of jieba's IDF file its value, and unknown words the median", async () => {
    const { readFileSync } = await import('node:fs');
    const { createRequire } = await import('node:module');
    const file = readFileSync(createRequire(import.meta.url).resolve('@node-rs/jieba/idf.txt'), 'utf8');
    const plain = new Map<string, number>();
    for (const line of file.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) plain.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
    expect(plain.size).toBeGreaterThan(250_000);
    let checked = 0;
    for (const [word, value] of plain) {
      if (jiebaIdf(word) !== value) expect({ word, idf: jiebaIdf(word) }).toEqual({ word, idf: value });
      checked++;
    }
    expect(checked).toBe(plain.size);
    for (const unknown of ['于都县某某食品有限公司', '张三丰', 'qwertyuiop', '', '𠮷野家']) if (!plain.has(unknown)) expect(jiebaIdf(unknown)).toBe(11.7);
  });
});
