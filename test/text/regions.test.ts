import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createRegionResolver, findPlaceNames } from '../../src/text/regions.ts';
import { regionIndex } from '../../src/text/regions-data.ts';

// The demo bureau is 江西省 (360000); `national` has no home province.
const jx = createRegionResolver({ province: '360000' });
const national = createRegionResolver();

describe('full names', () => {
  it('resolves province + city + county to the county alone', () => {
    expect(jx.extract('江西省南昌市东湖区某超市销售过期牛奶')).toEqual(['360102']);
  });

  it('resolves city + county and the county name alone', () => {
    expect(jx.extract('南昌市东湖区一餐馆被立案调查')).toEqual(['360102']);
    expect(jx.extract('东湖区市场监管局开展夜市专项检查')).toEqual(['360102']);
  });

  it('resolves a city and a province on their own', () => {
    expect(jx.extract('九江市一家超市被查出过期冻肉')).toEqual(['360400']);
    expect(jx.extract('江西省市场监管局发布抽检通告')).toEqual(['360000']);
  });

  it('resolves places outside the home province', () => {
    expect(jx.extract('据报道，广东省广州市天河区一奶茶店使用过期原料')).toEqual(['440106']);
    expect(jx.extract('浙江省杭州市余杭区某食品厂')).toEqual(['330110']);
  });

  it('matches 临夏县 and 临夏市 by full name before the shared short form', () => {
    expect(national.extract('临夏县一餐馆')).toEqual(['622921']);
    expect(national.extract('临夏市一餐馆')).toEqual(['622901']);
    expect(national.extract('临夏一餐馆')).toEqual(['622900']);
  });

  it('matches a development zone by its full official name', () => {
    expect(national.extract('苏州工业园区一家食堂')).toEqual(['320576']);
  });
});

describe('short forms', () => {
  it('resolves city and county names written without a suffix', () => {
    expect(jx.extract('南昌一小学食堂')).toEqual(['360100']);
    expect(jx.extract('赣州脐橙抽检合格')).toEqual(['360700']);
    expect(jx.extract('于都一中心小学32名学生呕吐')).toEqual(['360731']);
    expect(jx.extract('婺源皇菊抽检不合格')).toEqual(['361130']);
  });

  it('resolves county-level cities (codes 81–99) by their short form', () => {
    expect(jx.extract('瑞金一家脐橙合作社')).toEqual(['360781']);
    expect(national.extract('福建晋江举办食品企业培训')).toEqual(['350582']);
  });

  it('resolves a city that has no counties (东莞) to the city code alone', () => {
    expect(national.extract('东莞一工厂食堂')).toEqual(['441900']);
    expect(national.fullName('441900')).toBe('广东省东莞市');
    expect(national.parents('441900')).toEqual(['440000']);
  });

  it('does not treat other frequent words that are county short forms as regions', () => {
    expect(jx.extract('餐饮行业的一股清流，居民和游客都点赞，开封后请冷藏')).toEqual([]);
  });

  it('resolves province short + city short written together', () => {
    expect(jx.extract('江西南昌：一网红餐厅被查')).toEqual(['360100']);
    expect(national.extract('新疆昌吉一屠宰场')).toEqual(['652300']);
  });

  it('shortens autonomous prefectures to their place name', () => {
    expect(national.extract('西双版纳一餐馆')).toEqual(['532800']);
    expect(national.extract('延边召开食品安全会议')).toEqual(['222400']);
  });

  it.each([
    ['东湖', '东湖公园举办美食节'],
    ['城区', '主城区各小学食堂全面检查'],
    ['新华', '新华社记者调查发现'],
    ['鼓楼', '鼓楼附近一家小吃店'],
    ['向阳', '向阳花开'],
    ['长安', '长安汽车发布新车'],
    ['和平', '和平饭店后厨'],
    ['江南', '江南水乡特色小吃'],
    ['青山', '青山绿水间的农家乐'],
    ['平安', '平安银行发布公告'],
  ])('does not treat the common word %s alone as a region', (_word, text) => {
    expect(jx.extract(text)).toEqual([]);
  });

  it('accepts a common-word short form right after its city or province', () => {
    expect(jx.extract('南昌东湖一餐馆')).toEqual(['360102']);
    expect(national.extract('北京朝阳一家烤鸭店')).toEqual(['110105']);
  });

  it('reads a province short form as the province, and as a prefecture after its own province', () => {
    expect(national.extract('海南加强粮食储备')).toEqual(['460000']);
    expect(national.extract('青海海南州一牧场')).toEqual(['632500']);
    expect(national.extract('吉林一超市')).toEqual(['220000']);
    expect(national.extract('吉林市一超市')).toEqual(['220200']);
  });

  it('returns nothing for text without a region', () => {
    expect(jx.extract('今天天气不错，消费者反映买到的牛奶有异味')).toEqual([]);
    expect(jx.extract('')).toEqual([]);
  });
});

describe('names that repeat nationally', () => {
  it('drops a repeated county name with no context rather than guessing', () => {
    expect(jx.extract('鼓楼区一家面包店')).toEqual([]);
    expect(national.extract('西湖区一家面包店')).toEqual([]);
  });

  it('resolves a repeated county name by the city right before it', () => {
    expect(jx.extract('南京市鼓楼区一家面包店')).toEqual(['320106']);
    expect(jx.extract('福州鼓楼区一家面包店')).toEqual(['350102']);
    expect(national.extract('阳泉市城区一家超市')).toEqual(['140302']);
  });

  it('resolves a repeated county name by a city mentioned elsewhere in the text', () => {
    expect(jx.extract('南京市场监管部门通报：鼓楼区某超市销售过期食品')).toEqual(['320106']);
  });

  it('resolves a repeated county name by the home province', () => {
    expect(jx.extract('西湖区一家面包店')).toEqual(['360103']);
    expect(createRegionResolver({ province: '330000' }).extract('西湖区一家面包店')).toEqual(['330106']);
  });

  it('resolves a short form shared across provinces by the home province, else drops it', () => {
    // 昌江区 (景德镇) and 昌江黎族自治县 (海南)
    expect(jx.extract('昌江一茶厂')).toEqual(['360202']);
    expect(createRegionResolver({ province: '460000' }).extract('昌江一茶厂')).toEqual(['469026']);
    expect(national.extract('昌江一茶厂')).toEqual([]);
  });
});

describe('false positives', () => {
  it('does not read a road named after a place as the place', () => {
    expect(national.extract('上海市黄浦区南昌路一家咖啡馆')).toEqual(['310101']);
    expect(jx.extract('南昌路上的奶茶店')).toEqual([]);
    expect(jx.extract('九江大道沿线')).toEqual([]);
  });

  it('does not read dishes named after a town as the town', () => {
    expect(jx.extract('某沙县小吃店和兰州拉面馆卫生不达标')).toEqual([]);
    expect(jx.extract('便利店三明治菌落总数超标')).toEqual([]);
    expect(national.extract('福建三明一食品厂')).toEqual(['350400']);
  });

  it('reads a township sharing a county short form as the county it lies in', () => {
    // 祥符 is also a district of 开封; here it is a town of 高安市.
    expect(jx.extract('高安市祥符镇一家小作坊')).toEqual(['360983']);
  });

  it('does not read 鄱阳湖 as 鄱阳县', () => {
    expect(jx.extract('鄱阳湖禁渔期')).toEqual([]);
    expect(jx.extract('鄱阳县一水产市场')).toEqual(['361128']);
  });
});

describe('output order', () => {
  it('lists the most specific region first and omits parents of listed regions', () => {
    expect(jx.extract('九江市一家超市和东湖区一家餐馆')).toEqual(['360102', '360400']);
    expect(jx.extract('江西省南昌市东湖区和九江市')).toEqual(['360102', '360400']);
  });

  it('deduplicates repeated mentions', () => {
    expect(jx.extract('南昌市消息。南昌一学校食堂，南昌市教育局回应')).toEqual(['360100']);
  });
});

describe('hints', () => {
  it('puts a valid code hint first, ahead of the text', () => {
    expect(jx.extract('九江市一家超市', '360102')).toEqual(['360102', '360400']);
  });

  it('accepts a name hint and drops text regions above it', () => {
    expect(jx.extract('南昌市一家超市', '东湖区')).toEqual(['360102']);
    expect(jx.extract('江西省某超市', '南昌市东湖区')).toEqual(['360102']);
  });

  it('ignores an invalid hint', () => {
    expect(jx.extract('九江市一家超市', '999999')).toEqual(['360400']);
    expect(jx.extract('九江市一家超市', '不详')).toEqual(['360400']);
  });

  it('lends the hint as context to a repeated name in the text', () => {
    expect(national.extract('鼓楼区一家面包店', '南京市')).toEqual(['320100', '320106']);
  });

  it('resolveHint reads codes, statistical codes and names', () => {
    expect(jx.resolveHint('360102')).toBe('360102');
    expect(jx.resolveHint('3601')).toBe('360100');
    expect(jx.resolveHint('360102001000')).toBe('360102');
    expect(jx.resolveHint('南昌市东湖区')).toBe('360102');
    expect(jx.resolveHint(' 南昌市 东湖区 ')).toBe('360102');
    expect(jx.resolveHint('江西')).toBe('360000');
    // A hint is only a place name, so a common-word short form is fine there.
    expect(jx.resolveHint('东湖')).toBe('360102');
  });

  it('resolveHint returns null for unknown codes, non-places and unresolvable repeats', () => {
    expect(jx.resolveHint('999999')).toBeNull();
    expect(jx.resolveHint('12345')).toBeNull();
    expect(jx.resolveHint('不详')).toBeNull();
    expect(jx.resolveHint('鼓楼区')).toBeNull();
  });
});

describe('names and hierarchy', () => {
  it('gives full and short names', () => {
    expect(jx.fullName('360102')).toBe('江西省南昌市东湖区');
    expect(jx.name('360102')).toBe('东湖区');
    expect(jx.fullName('360400')).toBe('江西省九江市');
    expect(jx.fullName('110105')).toBe('北京市朝阳区');
    expect(jx.fullName('500229')).toBe('重庆市城口县');
    expect(jx.fullName('123456')).toBeUndefined();
    expect(jx.name('abc')).toBeUndefined();
  });

  it('lists parents, skipping municipality placeholder cities', () => {
    expect(jx.parents('360102')).toEqual(['360000', '360100']);
    expect(jx.parents('360100')).toEqual(['360000']);
    expect(jx.parents('360000')).toEqual([]);
    expect(jx.parents('110105')).toEqual(['110000']);
    expect(jx.parents('999999')).toEqual([]);
  });

  it('tells whether a code lies within another', () => {
    expect(jx.within('360102', '360102')).toBe(true);
    expect(jx.within('360102', '360100')).toBe(true);
    expect(jx.within('360102', '360000')).toBe(true);
    expect(jx.within('360102', '360400')).toBe(false);
    expect(jx.within('360000', '360102')).toBe(false);
    expect(jx.within('110105', '110100')).toBe(true);
    expect(jx.within('36', '360000')).toBe(false);
  });

  it('rejects a home province that is not a province code', () => {
    expect(() => createRegionResolver({ province: '360100' })).toThrow(/province/);
    expect(() => createRegionResolver({ province: '990000' })).toThrow(/990000/);
  });
});

describe('invariants', () => {
  const pieces = ['江西省', '南昌', '东湖区', '鼓楼区', '九江市', '城区', '海南', '北京', '朝阳', '路', '镇', '的', '超市', '，', '三明治', '临夏县'];
  it('returns known, distinct codes with no parent next to its child, for any text', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), (parts) => {
        const codes = jx.extract(parts.join(''));
        expect(new Set(codes).size).toBe(codes.length);
        for (const c of codes) {
          expect(jx.fullName(c)).toBeDefined();
          for (const o of codes) if (o !== c) expect(jx.within(o, c)).toBe(false);
        }
      }),
    );
  });
});

describe('scanning for place names', () => {
  const idx = regionIndex();
  /**
   * The scan as first written: at each position the blocked phrases, then the names starting with
   * that character, longest first; a name followed by a street or a town is no mention.
   */
  function referenceScan(text: string): { start: number; end: number; name: string }[] {
    const notAMention = (at: number, full: boolean): boolean => {
      const c = text[at];
      if (c === undefined) return false;
      if (['路', '街', '巷'].includes(c) || ['大道', '大街', '胡同', '东路', '西路', '南路', '北路', '中路'].some((w) => text.startsWith(w, at))) return true;
      if (full || !['镇', '乡', '湖'].includes(c) || ['乡村', '乡镇', '乡下', '乡亲'].some((w) => text.startsWith(w, at))) return false;
      return !idx.byFirstChar.get(c)?.some((n) => text.startsWith(n, at));
    };
    const out: { start: number; end: number; name: string }[] = [];
    for (let i = 0; i < text.length; ) {
      const phrase = idx.blockedByFirstChar.get(text[i]!)?.find((w) => text.startsWith(w, i));
      if (phrase) {
        i += phrase.length;
        continue;
      }
      const hit = idx.byFirstChar.get(text[i]!)?.find((n) => text.startsWith(n, i));
      if (!hit) {
        i++;
        continue;
      }
      if (!notAMention(i + hit.length, idx.aliases.get(hit)![0]!.full)) out.push({ start: i, end: i + hit.length, name: hit });
      i += hit.length;
    }
    return out;
  }
  // Names, their prefixes and extensions, blocked phrases and the words around them, so that
  // matches overlap, nest and are cut off at the end of the text.
  const names = [...idx.aliases.keys()];
  const blocked = [...idx.blockedByFirstChar.values()].flat();
  const piece = fc.oneof(
    fc.constantFrom(...names),
    fc.constantFrom(...blocked),
    fc.constantFrom(...names, ...blocked).chain((w) => fc.integer({ min: 1, max: w.length }).map((k) => w.slice(0, k))),
    fc.constantFrom('市', '县', '区', '路', '东路', '镇', '乡', '乡村', '湖', '的', '，', '\n', 'a', '𠮷'),
  );

  it('finds, left to right, the longest name at each position unless a blocked phrase starts there', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (parts) => {
        const text = parts.join('');
        expect(findPlaceNames(text)).toEqual(referenceScan(text));
      }),
      { numRuns: 2000 },
    );
  });
});
