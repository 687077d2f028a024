import { writeFileSync } from 'node:fs';
import { itemId } from '../../src/core/ids.ts';
import type { RawItem } from '../../src/core/types.ts';
import { mulberry32 } from '../helpers/rng.ts';

/*
 * A deterministic corpus for the benchmarks: item i of seed s is always the same text, so two
 * runs (or two machines) measure the same work. Items are built one at a time from their index,
 * never from the previous item, so a million can be streamed without holding them.
 *
 * Texts are assembled from phrase banks of the kind the duty desk actually reads: provincial
 * news (mostly not about food risk at all), 12315 complaints (short, first person), with about a
 * quarter of the items carrying one to three risk sentences (poisoning, spoiled or expired food,
 * illegal additives, unlicensed workshops, failed sampling…) and some carrying the phrases that
 * should NOT alert (drills, training, refuted rumours, negated findings).
 */

export { mulberry32 } from '../helpers/rng.ts';

/** Mixes seed and index so neighbouring items get unrelated streams. */
function itemSeed(seed: number, i: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (i >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (i & 0xffff) ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ i, 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

// --- phrase banks ---------------------------------------------------------------------------

/** [city, county] in 江西 (the home province) — full names as people write them. */
const JX_PLACES: readonly [string, string, string][] = [
  ['南昌市', '东湖区', '360102'], ['南昌市', '西湖区', '360103'], ['南昌市', '青山湖区', '360111'], ['南昌市', '新建区', '360112'],
  ['南昌市', '南昌县', '360121'], ['南昌市', '进贤县', '360124'], ['景德镇市', '珠山区', '360203'], ['景德镇市', '浮梁县', '360222'],
  ['萍乡市', '安源区', '360302'], ['萍乡市', '芦溪县', '360323'], ['九江市', '浔阳区', '360403'], ['九江市', '濂溪区', '360402'],
  ['九江市', '修水县', '360424'], ['九江市', '都昌县', '360428'], ['新余市', '渝水区', '360502'], ['鹰潭市', '月湖区', '360602'],
  ['鹰潭市', '贵溪市', '360681'], ['赣州市', '章贡区', '360702'], ['赣州市', '南康区', '360703'], ['赣州市', '于都县', '360731'],
  ['赣州市', '瑞金市', '360781'], ['赣州市', '兴国县', '360732'], ['赣州市', '宁都县', '360730'], ['吉安市', '吉州区', '360802'],
  ['吉安市', '井冈山市', '360881'], ['吉安市', '泰和县', '360826'], ['宜春市', '袁州区', '360902'], ['宜春市', '高安市', '360983'],
  ['宜春市', '樟树市', '360982'], ['抚州市', '临川区', '361002'], ['抚州市', '南城县', '361021'], ['上饶市', '信州区', '361102'],
  ['上饶市', '广丰区', '361103'], ['上饶市', '婺源县', '361130'], ['上饶市', '鄱阳县', '361128'], ['上饶市', '玉山县', '361123'],
];
/** Elsewhere: news from neighbouring provinces and national stories. */
const OTHER_PLACES: readonly string[] = [
  '湖南省长沙市岳麓区', '湖北省武汉市洪山区', '浙江省杭州市西湖区', '福建省福州市鼓楼区', '广东省广州市天河区', '安徽省合肥市蜀山区',
  '上海市浦东新区', '北京市朝阳区', '四川省成都市武侯区', '河南省郑州市金水区', '山东省济南市历下区', '云南省昆明市五华区',
];
const STREETS = ['中山路', '八一大道', '解放路', '人民路', '胜利路', '建设路', '文化路', '新华路', '红旗大道', '滨江路', '站前路', '青年路', '长征路'];
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '罗', '熊', '邹', '钟', '曾'];
const SHOP_NAMES = ['好味道', '老街坊', '香满园', '一品鲜', '福满楼', '鸿运来', '乡里香', '聚贤楼', '家家乐', '金鼎', '百味坊', '惠民', '佳佳', '万家福', '天天鲜', '顺发', '红星', '华联', '永辉'];
const BUSINESS_KINDS = [
  '餐饮店', '米粉店', '小吃店', '快餐店', '大酒店', '农家乐', '烧烤店', '卤味店', '面包店', '蛋糕店', '奶茶店', '超市', '便利店',
  '生鲜超市', '副食品商行', '粮油店', '冻品批发部', '水产店', '肉铺', '食品厂', '豆制品加工坊', '米粉加工厂', '月饼加工厂', '保健品店', '母婴店',
];
const INSTITUTIONS = ['第一中学', '实验小学', '第二小学', '中心幼儿园', '阳光幼儿园', '职业技术学院', '工业园区职工食堂', '敬老院', '第三中学'];
const FOODS = [
  '米粉', '瓦罐汤', '腊肉', '卤鸭脖', '卤牛肉', '月饼', '婴幼儿配方奶粉', '冷冻鸡爪', '冻猪肉', '鲜猪肉', '青菜', '豆角', '大米', '菜籽油',
  '白酒', '酱油', '腌菜', '辣椒酱', '面包', '蛋糕', '酸奶', '鸡蛋', '鲫鱼', '小龙虾', '螺蛳粉', '豆腐', '凉皮', '粽子', '汤圆', '野生菌',
  '蜂蜜', '茶叶', '皮蛋', '火腿肠', '方便面', '瓶装水', '饮料', '盒饭', '外卖套餐', '烤鸭',
];
const CHANNELS = ['12315平台', '12315热线', '12345转办'];
const REQUEST_TYPES = ['投诉', '投诉', '投诉', '举报', '咨询'];
const PRODUCT_CLASSES = ['一般食品', '餐饮服务', '烟酒和饮料', '保健食品', '特殊食品', '食用农产品'];
const STATUSES = ['待受理', '已受理', '调解中', '已办结', '已办结', '不予受理'];

/** Everyday provincial news that has nothing to do with food risk. */
const NEWS_NOISE = [
  '记者从市政府新闻办获悉，今年以来全市经济运行总体平稳、稳中有进，主要指标好于预期。',
  '据了解，该项目总投资约12亿元，建成后将新增就业岗位三千余个，带动上下游产业协同发展。',
  '连日来，气温逐步回落，气象部门提醒市民注意添衣保暖，出行注意交通安全。',
  '当天上午，市委书记一行深入企业、园区和社区，实地调研重点项目建设情况。',
  '会议强调，要坚持以人民为中心的发展思想，切实把惠民实事办好办实。',
  '国庆假期期间，全省共接待游客数千万人次，实现旅游收入同比增长。',
  '近年来，当地大力发展赣南脐橙、井冈蜜柚等特色产业，带动农民增收致富。',
  '据统计，前三季度全市规模以上工业增加值同比增长6.2%，固定资产投资稳步增长。',
  '活动现场，群众排起长队，志愿者耐心解答各类问题，现场气氛热烈。',
  '该负责人表示，下一步将持续优化营商环境，为市场主体提供更加便捷高效的服务。',
  '随着高铁线路的开通，沿线城市之间的通勤时间大幅缩短，区域一体化进程加快。',
  '在乡村振兴示范点，一排排白墙黛瓦的民居错落有致，村道干净整洁。',
  '市交管部门提醒，节假日期间高速公路车流量较大，请合理安排出行时间。',
  '据介绍，今年全市新增城镇就业人数超过预期目标，居民人均可支配收入稳步提高。',
  '晚会以歌舞、戏曲、小品等形式，展现了新时代江西人民奋发向上的精神面貌。',
  '在该县的蔬菜基地，村民们正忙着采摘、分拣、装箱，一派丰收景象。',
  '专家指出，数字经济已成为推动高质量发展的重要引擎。',
  '该校今年共招收新生两千余人，新建的教学楼和图书馆已投入使用。',
  '据悉，全市今年将改造老旧小区一百余个，惠及居民数万户。',
  '当地文旅部门推出多条精品线路，吸引周边城市游客前来观光。',
  '今年的早稻收割工作已基本结束，全省粮食生产再获丰收。',
  '夜幕降临，滕王阁景区灯光璀璨，游人如织。',
  '记者在现场看到，工人们正在加紧施工，确保项目按期完工。',
  '本次招聘会共有两百余家企业参会，提供就业岗位八千多个。',
];
/** Food-related text that is routine or reassuring: it must not alert. */
const FOOD_NOISE = [
  '市场监管部门提醒，消费者购买食品时要查看生产日期和保质期，索要购物凭证。',
  '当天，执法人员对辖区农贸市场进行了日常巡查，未发现过期食品。',
  '该县举办食品安全宣传周活动，向群众发放宣传资料三千余份。',
  '今年中秋前夕，月饼市场供应充足，价格总体平稳。',
  '县市场监管局联合教育局在实验小学开展食物中毒应急演练。',
  '网传“某超市销售变质猪肉”的消息经核查不实，系谣言。',
  '据了解，全市已建成“明厨亮灶”餐饮单位数千家，后厨操作过程实时可见。',
  '近日，记者走访多家超市看到，各类蔬菜、水果、肉蛋奶货源充足。',
  '专家建议，秋冬季节饮食宜清淡，多吃新鲜蔬菜水果。',
  '当地特色小吃米粉、瓦罐汤受到外地游客的欢迎。',
  '为保障考试期间考生饮食安全，监管人员对考点周边餐饮单位进行了检查，均未发现问题。',
  '食品安全知识讲座吸引了不少社区居民参加。',
];

/** Sentences that carry risk; {x} slots are filled per item. */
const RISK_NEWS = [
  '{date}中午，{county}{inst}{n}名学生在食用学校食堂午餐后陆续出现呕吐、腹泻、发热等症状，已被送往医院住院治疗。',
  '{county}一户村民家中办酒席，{n}名宾客食用后出现恶心、呕吐、腹痛症状，其中{m}人入院抢救。',
  '执法人员在{county}一家{biz}的冷库内查获无检验检疫证明的冷冻肉品{m}百公斤，涉嫌走私冻品。',
  '抽检结果显示，{county}某{biz}销售的{food}检出农药残留超标，判定为不合格。',
  '{county}市场监管局接到群众举报，在一处居民楼内查获一家无证无照的黑作坊，现场卫生条件极差，地面污水横流。',
  '经查，该{biz}使用过期原料生产{food}，并篡改生产日期后对外销售，涉案货值{m}万余元。',
  '执法人员发现，该店后厨有老鼠出没，防蝇防鼠设施缺失，食品原料生熟混放。',
  '省市场监管局通报，{n}批次食品抽检不合格，其中{food}检出苏丹红、罂粟壳等非食用物质。',
  '{n}名工人在{county}某工地食堂用餐后出现集体腹泻，疑似食物中毒，疾控部门已采样送检。',
  '有网友反映，{county}多家外卖商家无证经营，后厨脏乱差，饭菜中吃出虫子和头发。',
  '警方在{county}捣毁一个制售假冒名牌白酒的窝点，现场查获假酒{m}千余瓶。',
  '该{biz}涉嫌在{food}中超范围超限量使用食品添加剂，已被立案调查。',
  '据通报，一名老人在保健品讲座上花两万元购买宣称能治疗糖尿病的保健品，服用后出现肝损伤。',
  '{county}一家超市将过期的婴幼儿配方奶粉重新贴标销售，多名婴儿食用后出现腹泻。',
  '村民食用自己采摘的野生菌后出现头晕、呕吐和幻觉，{m}人经抢救无效死亡。',
];
const RISK_COMPLAINT = [
  '我在{biz}买的{food}已经过期{m}天了，吃了以后肚子疼、拉肚子，要求商家赔偿并查处。',
  '在{biz}吃饭，菜里吃出一只蟑螂，找老板理论，老板态度恶劣拒不处理。',
  '孩子在{inst}食堂吃饭后呕吐发烧，班上还有好几个同学也不舒服，希望监管部门查一查。',
  '这家{biz}后厨卫生太差，我亲眼看到老鼠在操作间跑来跑去，食材直接放在地上。',
  '在{biz}买的{food}打开就有一股馊味，已经发霉变质，商家说没办法退。',
  '举报{biz}无证经营，在居民楼里加工{food}，油烟很大，环境脏乱，没有任何健康证。',
  '在网上直播间买的{food}，收到后发现包装上没有生产日期、没有厂名厂址，是三无产品。',
  '{biz}卖的{food}生产日期被改过，原来的日期被涂掉重新打印，怀疑是过期食品翻新。',
  '我父亲在{biz}听了保健品讲座，买了宣称能降血压治百病的保健食品，花了八千多元。',
  '冷冻柜里的{food}没有检疫证明，也看不出产地，解冻后又重新冻上卖，冷链明显断了。',
];
const COMPLAINT_NOISE = [
  '在{biz}买东西，收银员多收了我五块钱，找她理论也不承认。',
  '{biz}的会员卡充了钱，现在店铺突然关门了，余额退不了。',
  '外卖送餐超时一个多小时，联系商家也没人回应，要求退款。',
  '{biz}价格标签和结账价格不一致，标的是特价，结账按原价收。',
  '想咨询一下网上购买的{food}七天无理由退货是否适用。',
  '在{biz}办了一张卡，说好的优惠活动到店里却不认了。',
  '快递把我买的{food}压坏了，商家和快递互相推卸责任。',
  '{biz}开具的发票抬头写错了，要求重新开具一直拖着不办。',
  '当时店里人很多，服务员说要等半个小时，结果等了一个多小时才上菜。',
  '我当场拍了照片和视频，也保留了付款记录和小票，可以提供给你们。',
  '第二天我又去店里找他们，店长说负责人不在，让我改天再来。',
  '打了店里留的电话好几次都没人接，后来干脆把我拉黑了。',
  '他们在平台上的评分很高，但是实际情况和宣传的完全不一样。',
  '我家住在{county}，离这家店不远，平时经常去那边买东西。',
  '同小区的邻居也说在这家店遇到过类似的情况。',
  '店员解释说是系统问题，但一直没有给出处理方案。',
  '我要求按照消费者权益保护法的规定处理，商家不同意。',
  '上次在平台上投诉过一次，商家只退了一半的钱就不管了。',
  '这家店开在学校附近，来买东西的多数是学生。',
  '付款的时候用的是微信支付，有转账记录。',
];

interface Slots {
  county: string;
  biz: string;
  food: string;
  inst: string;
  date: string;
}

function fill(r: Rng, tpl: string, s: Slots): string {
  return tpl.replace(/\{(\w+)\}/g, (_, k: string) => {
    switch (k) {
      case 'n':
        return String(int(r, 3, 60));
      case 'm':
        return String(int(r, 2, 9));
      default:
        return (s as unknown as Record<string, string>)[k] ?? '';
    }
  });
}

/** Items are dated over the 30 days before this fixed instant, so runs are reproducible. */
export const CORPUS_END = Date.parse('2026-11-29T00:00:00+08:00');
export const CORPUS_DAYS = 30;

export interface CorpusOptions {
  seed?: number;
  /** Share of items that carry risk sentences (default 0.25). */
  riskShare?: number;
  /** Share of items that are news; the rest are hotline complaints (default 0.45). */
  newsShare?: number;
}

export interface CorpusItem {
  item: RawItem;
  /** Whether the generator put risk sentences in (the rules decide whether it alerts). */
  risky: boolean;
}

function beijing(ms: number): { ymd: string; md: string; hms: string } {
  const d = new Date(ms + 8 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return {
    ymd: `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`,
    md: `${d.getUTCMonth() + 1}月${d.getUTCDate()}日`,
    hms: `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`,
  };
}

function businessName(r: Rng, county: string): string {
  const name = r() < 0.5 ? pick(r, SURNAMES) + '记' : pick(r, SHOP_NAMES);
  return `${county}${name}${pick(r, BUSINESS_KINDS)}`;
}

/** Appends sentences until the text reaches `target` characters, breaking paragraphs now and then. */
function grow(r: Rng, parts: string[], target: number, next: () => string): string {
  let len = parts.reduce((n, p) => n + p.length, 0);
  const used = new Set<string>();
  while (len < target) {
    let s = next();
    // people rarely say the same sentence twice: redraw a few times before accepting a repeat
    for (let tries = 0; used.has(s) && tries < 4; tries++) s = next();
    used.add(s);
    parts.push(s);
    len += s.length;
    if (r() < 0.25) parts.push('\n');
  }
  let text = parts.join('');
  if (text.length > target + 120) text = text.slice(0, target);
  return text;
}

/** Inserts risk sentences at random positions among the noise sentences. */
function sprinkle(r: Rng, body: string, risk: string[]): string {
  const sentences = body.split(/(?<=[。\n])/);
  for (const s of risk) sentences.splice(int(r, 0, Math.min(sentences.length, 6)), 0, s);
  return sentences.join('');
}

/** Item `i` of the corpus: a pure function of (seed, i). */
export function corpusItem(i: number, opts: CorpusOptions = {}): CorpusItem {
  const seed = opts.seed ?? 20261129;
  const r = mulberry32(itemSeed(seed, i));
  const risky = r() < (opts.riskShare ?? 0.25);
  const news = r() < (opts.newsShare ?? 0.45);
  const local = r() < 0.85;
  const [city, county, code] = pick(r, JX_PLACES);
  const place = local ? `${city}${county}` : pick(r, OTHER_PLACES);
  const at = CORPUS_END - Math.floor(r() * CORPUS_DAYS * 86_400_000);
  const when = beijing(at);
  const slots: Slots = {
    county: r() < 0.5 ? place : county,
    biz: businessName(r, r() < 0.5 ? county : ''),
    food: pick(r, FOODS),
    inst: pick(r, INSTITUTIONS),
    date: when.md,
  };
  const iso = new Date(at).toISOString();
  if (news) {
    const target = Math.round(300 + 2700 * r() ** 1.6); // 300–3,000, most of them short
    const riskLines = risky ? Array.from({ length: int(r, 1, 3) }, () => fill(r, pick(r, RISK_NEWS), slots)) : [];
    const lead = `（记者 ${pick(r, SURNAMES)}${pick(r, SHOP_NAMES).slice(0, 1)} 通讯员 ${pick(r, SURNAMES)}${pick(r, SURNAMES)}）${when.md}，`;
    const noise = grow(r, [lead], target - riskLines.join('').length, () =>
      r() < 0.2 ? pick(r, FOOD_NOISE) : fill(r, pick(r, NEWS_NOISE), slots),
    );
    const body = sprinkle(r, noise, riskLines);
    const title = risky
      ? `${county}${pick(r, ['发生一起', '通报', '查处', '曝光'])}${pick(r, ['食品安全事件', '违法案件', '群体性不适事件', '违规经营行为'])}`
      : `${county}${pick(r, ['召开', '推进', '举办', '启动'])}${pick(r, ['重点项目建设', '民生实事', '秋季招聘会', '文化旅游节', '乡村振兴现场会'])}`;
    return {
      risky,
      item: {
        id: itemId('bench-news', `${seed}-${i}`),
        sourceId: local ? 'jx-news' : 'national-news',
        kind: 'news',
        title,
        body,
        url: `https://news.example.cn/${when.ymd.replace(/-/g, '')}/${i}.html`,
        publishedAt: iso,
        fetchedAt: iso,
        fields: {},
      },
    };
  }
  const target = Math.round(60 + 540 * r() ** 1.8); // 60–600
  const opening = `${when.md}我在${slots.biz}。`;
  const riskLines = risky ? Array.from({ length: int(r, 1, 2) }, () => fill(r, pick(r, RISK_COMPLAINT), slots)) : [];
  const noise = grow(r, [opening], Math.max(40, target - riskLines.join('').length), () =>
    r() < 0.85 ? fill(r, pick(r, COMPLAINT_NOISE), slots) : pick(r, ['希望尽快处理。', '请相关部门核实。', '已经多次反映，一直没有结果。', '要求退一赔三。']),
  );
  const body = sprinkle(r, noise, riskLines).slice(0, 600);
  const key = `${code}${when.ymd.replace(/-/g, '')}${String(i).padStart(7, '0')}`;
  const requestType = pick(r, REQUEST_TYPES);
  return {
    risky,
    item: {
      id: itemId('bench-12315', key),
      sourceId: 'hotline-12315',
      kind: 'complaint',
      title: `${requestType}：${slots.biz}`,
      body: body.length >= 60 ? body : (body + '请相关部门尽快核实处理，给消费者一个说法。希望尽快处理。谢谢。').slice(0, 60),
      publishedAt: iso,
      fetchedAt: iso,
      regionHint: code,
      fields: { 登记编号: key, 诉求类型: requestType, 被投诉主体: slots.biz, 渠道: pick(r, CHANNELS) },
    },
  };
}

/** Items [from, from + n) as an array. */
export function corpus(n: number, opts: CorpusOptions = {}, from = 0): RawItem[] {
  const out: RawItem[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = corpusItem(from + k, opts).item;
  return out;
}

/** Items in chunks, generated lazily: memory stays flat however many are streamed. */
export function* corpusChunks(total: number, chunk: number, opts: CorpusOptions = {}, from = 0): Generator<RawItem[]> {
  for (let at = 0; at < total; at += chunk) yield corpus(Math.min(chunk, total - at), opts, from + at);
}

const CSV_COLUMNS = ['登记编号', '登记时间', '渠道', '诉求类型', '被投诉主体', '地址', '所属区域', '商品或服务分类', '诉求内容', '处理状态'] as const;

const csvCell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * A 12315 export of `rows` complaints (UTF-8 with BOM, as the platform exports it), written to
 * `file`. Row k is complaint-shaped corpus text; the register number is unique per row.
 */
export function writeHotlineCsv(file: string, rows: number, opts: CorpusOptions = {}): { bytes: number } {
  const seed = opts.seed ?? 20261129;
  const lines: string[] = ['\uFEFF' + CSV_COLUMNS.join(',')];
  for (let k = 0; k < rows; k++) {
    const r = mulberry32(itemSeed(seed ^ 0x5bd1e995, k));
    const [city, county, code] = pick(r, JX_PLACES);
    const at = CORPUS_END - Math.floor(r() * CORPUS_DAYS * 86_400_000);
    const when = beijing(at);
    const biz = businessName(r, county);
    const slots: Slots = { county, biz, food: pick(r, FOODS), inst: pick(r, INSTITUTIONS), date: when.md };
    const risky = r() < (opts.riskShare ?? 0.25);
    const parts = [`${when.md}在${biz}。`];
    if (risky) parts.push(fill(r, pick(r, RISK_COMPLAINT), slots));
    const target = Math.round(60 + 540 * r() ** 1.8);
    const body = grow(r, parts, target, () => fill(r, pick(r, COMPLAINT_NOISE), slots)).slice(0, 600);
    lines.push(
      [
        `${code}${when.ymd.replace(/-/g, '')}${String(k).padStart(7, '0')}`,
        `${when.ymd} ${when.hms}`,
        pick(r, CHANNELS),
        pick(r, REQUEST_TYPES),
        biz,
        `江西省${city}${county}${pick(r, STREETS)}${int(r, 1, 399)}号`,
        code,
        pick(r, PRODUCT_CLASSES),
        body,
        pick(r, STATUSES),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  const text = lines.join('\r\n') + '\r\n';
  writeFileSync(file, text, 'utf8');
  return { bytes: Buffer.byteLength(text) };
}
