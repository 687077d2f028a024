import type { ItemKind, RawItem } from '../../src/core/types.ts';
import { itemId } from '../../src/core/ids.ts';

/*
 * A generated stream with known truth: five real-world incidents in 江西, each reported as one
 * news item, three reposts with the small edits reposts make (a 【转】 tag, a rewritten figure, a
 * new title, a dropped sentence, a source line) and two complaints in the complainants' own words,
 * plus twenty unrelated risk items — some deliberately close to an incident (same county and
 * category, a different event).
 */

export interface StreamItem {
  raw: RawItem;
  /** Which real-world event the item reports. */
  truth: string;
}

interface Story {
  truth: string;
  region: string;
  business: string;
  news: { title: string; body: string };
  /** Each repost is derived from the news text by an edit function. */
  reposts: Array<(n: { title: string; body: string }) => { title: string; body: string }>;
  complaints: Array<{ title: string; body: string }>;
}

const tagged = (tag: string, from: string, to: string) => (n: { title: string; body: string }) => ({
  title: tag + n.title,
  body: n.body.replace(from, to),
});
const retitled = (title: string, drop: string) => (n: { title: string; body: string }) => ({
  title,
  body: n.body.replace(drop, ''),
});
const sourced = (lead: string, from: string, to: string) => (n: { title: string; body: string }) => ({
  title: n.title,
  body: lead + n.body.replace(from, to),
});

const STORIES: Story[] = [
  {
    truth: 'yudu-school',
    region: '360731',
    business: '于都县贡江镇中心小学食堂',
    news: {
      title: '于都县一小学32名学生午餐后呕吐腹痛 已送医救治',
      body: '11月27日中午，于都县贡江镇中心小学食堂供应午餐后，陆续有32名学生出现呕吐、腹痛等症状，已被送往县人民医院救治，目前均无生命危险。县市场监管局已封存留样食品，对食堂进行停业整顿，具体原因正在调查中。',
    },
    reposts: [
      tagged('【转】', '32名', '30余名'),
      retitled('突发！于都一小学数十名学生呕吐腹痛被送医', '目前均无生命危险。'),
      sourced('据赣州本地媒体报道，', '停业整顿', '停业整改'),
    ],
    complaints: [
      {
        title: '孩子在学校食堂吃了午饭就吐了',
        body: '我孩子在于都县贡江镇中心小学读三年级，今天中午吃了食堂的饭以后肚子疼还呕吐，班上好多同学都这样，学校食堂肯定有问题，请监管部门去查。',
      },
      {
        title: '贡江镇中心小学食堂饭菜有问题',
        body: '于都县贡江镇中心小学食堂今天中午的菜有股馊味，我家女儿吃了以后腹痛呕吐，现在还在县医院输液，学校一直说是肠胃炎，要求彻查食堂。',
      },
    ],
  },
  {
    truth: 'poyang-banquet',
    region: '361128',
    business: '鄱阳县谢家滩镇村民婚宴（流动厨师承办）',
    news: {
      title: '鄱阳县谢家滩镇一村民婚宴后46人腹泻发热 5人住院',
      body: '11月26日，鄱阳县谢家滩镇某村村民操办婚宴，约300人赴宴。次日起陆续有46人出现腹泻、发热症状，其中5人住院治疗。县疾控中心初步判断为细菌性食源性疾病，流动厨师制作的凉拌菜和卤菜被列为重点怀疑对象，县市场监管局已对剩余食品采样送检。',
    },
    reposts: [
      tagged('【扩散】', '46人', '四十多人'),
      retitled('鄱阳一场农村婚宴46人腹泻发热 疑为凉拌菜惹祸', '约300人赴宴。'),
      sourced('据上饶新闻网消息，', '采样送检', '抽样送检'),
    ],
    complaints: [
      {
        title: '吃了村里婚宴全家拉肚子',
        body: '26号在鄱阳县谢家滩镇参加亲戚的婚宴，是请的流动厨师做的酒席，回来全家都拉肚子发烧，村里好多人都这样，听说有人住院了，请查一下这个厨师。',
      },
      {
        title: '谢家滩镇婚宴流动厨师卫生差',
        body: '鄱阳县谢家滩镇这次婚宴的流动厨师在露天搭灶，凉拌菜放了一下午，苍蝇到处飞，吃完好多人腹泻发热，这种农村宴席没人管吗？',
      },
    ],
  },
  {
    truth: 'donghu-restaurant',
    region: '360102',
    business: '南昌市东湖区湘味小厨餐馆',
    news: {
      title: '南昌东湖区一餐馆多名食客就餐后腹泻 市场监管部门介入',
      body: '11月26日晚，南昌市东湖区阳明路一家湘菜馆的多名食客在就餐后出现腹泻、呕吐症状，部分人前往医院就诊。东湖区市场监管局接到投诉后对该店后厨进行检查，发现生熟混放、餐具未消毒等问题，已责令其停业整改并对剩余食材抽样。',
    },
    reposts: [
      tagged('【转】', '11月26日晚，', '26日晚间，'),
      retitled('阳明路一湘菜馆食客集体腹泻 后厨生熟混放', '部分人前往医院就诊。'),
      sourced('据江西都市报消息，', '停业整改', '停业整顿'),
    ],
    complaints: [
      {
        title: '湘味小厨吃完上吐下泻',
        body: '11月26日晚上我们一家在南昌市东湖区湘味小厨吃了剁椒鱼头和小炒肉，回家半夜全家腹泻呕吐，第二天去医院挂水。这家店后厨很脏，生熟混放，请监管部门查处。',
      },
      {
        title: '投诉湘味小厨餐馆卫生问题',
        body: '我昨天中午在东湖区湘味小厨餐馆吃饭，下午开始腹泻，同事也一样。我看见他们后厨餐具没有消毒直接用，生熟混放，希望你们去检查。',
      },
    ],
  },
  {
    truth: 'xinzhou-lumei',
    region: '361102',
    business: '上饶市信州区一品鲜卤味',
    news: {
      title: '上饶信州区一卤味店在民房无证加工卤菜 现场查扣200余斤',
      body: '11月27日，上饶市信州区市场监管局根据群众举报，在水南街道一处民房内查获一个无证卤菜加工点。现场卫生脏乱，地面污水横流，冰柜内存放的鸭掌、鸭脖来源不明，加工好的卤菜直接送往中山路一家卤味店销售。执法人员当场查扣卤制品200余斤，案件正在进一步调查中。',
    },
    reposts: [
      tagged('【转】', '200余斤', '二百多斤'),
      retitled('民房里的卤味作坊：无证加工、污水横流', '案件正在进一步调查中。'),
      sourced('据上饶日报报道，', '当场查扣', '现场扣押'),
    ],
    complaints: [
      {
        title: '一品鲜卤味的卤菜是无证小作坊做的',
        body: '上饶市信州区一品鲜卤味卖的卤菜是水南街道一个民房里的无证小作坊加工的，那个作坊卫生脏乱，污水横流，冰柜里的鸭掌鸭脖来源不明，请去查。',
      },
      {
        title: '买的卤鸭掌吃了拉肚子',
        body: '今天在信州区中山路一品鲜卤味买的卤鸭掌，吃完全家三口都拉肚子。听说他们的卤菜是在民房里无证加工的，卫生脏乱，请监管部门处理。',
      },
    ],
  },
  {
    truth: 'xunyang-formula',
    region: '360403',
    business: '九江市浔阳区佳和超市',
    news: {
      title: '九江浔阳区一超市销售过期婴幼儿配方奶粉 被立案查处',
      body: '11月27日，九江市浔阳区市场监管局在检查中发现，辖区一家超市货架上摆放的婴幼儿配方奶粉已超过保质期两个多月，共计23罐。执法人员当场下架封存，并对该超市立案调查。市场监管部门提醒家长购买婴幼儿配方乳粉时注意查看生产日期和保质期。',
    },
    reposts: [
      tagged('【转发】', '共计23罐', '共计二十余罐'),
      retitled('过期两个多月的婴儿奶粉还在卖！九江一超市被查', '市场监管部门提醒家长购买婴幼儿配方乳粉时注意查看生产日期和保质期。'),
      sourced('据九江发布消息，', '下架封存', '下架扣押'),
    ],
    complaints: [
      {
        title: '浔阳区佳和超市卖过期奶粉',
        body: '11月25日在九江市浔阳区佳和超市买的婴幼儿配方奶粉，回家看罐底发现已经过了保质期两个多月，宝宝喝了两天有点腹泻，超市说上架时没注意。',
      },
      {
        title: '佳和超市婴儿奶粉过期',
        body: '九江市浔阳区佳和超市货架上的婴幼儿配方奶粉过期了，我买了两罐都是过期两个月的，要求超市退一赔十，也请监管部门查处这家超市。',
      },
    ],
  },
];

/** Unrelated risk items: other events, several in the same county and category as an incident. */
const UNRELATED: Array<{ title: string; body: string; kind: ItemKind; business?: string; region?: string }> = [
  { kind: 'news', title: '于都县一幼儿园早餐面包发霉 园方被责令整改', body: '11月28日，有家长反映于都县某幼儿园早餐供应的面包长毛发霉，县市场监管局检查发现该园食品贮存间潮湿，部分面包已过保质期，已责令园方整改并对供货商立案调查。' },
  { kind: 'complaint', title: '学校小卖部卖过期辣条', body: '于都县城关小学门口的小卖部卖过期辣条给学生，我孩子买的辣条生产日期是去年的，已经过期半年了，请监管部门管一管。', business: '于都县城关小学门口小卖部', region: '360731' },
  { kind: 'news', title: '宜春一粮食经纪人将霉变稻谷掺入新粮出售 被查扣18吨', body: '11月27日，宜春市袁州区市场监管局会同粮食和物资储备部门，在彬江镇一处私人仓库查获涉嫌掺有霉变稻谷的粮食约18吨。部分稻谷已发黑结块，散发霉味，执法人员已封存并抽样检测黄曲霉毒素。' },
  { kind: 'news', title: '赣州章贡区一火锅店使用地沟油被查封', body: '11月28日，赣州市章贡区市场监管局在检查中发现一家火锅店后厨将顾客吃剩的锅底油过滤后重复使用，现场查获回收油50公斤，该店已被查封，负责人被立案调查。' },
  { kind: 'complaint', title: '蜀香串串回收锅底油', body: '我在九江市浔阳区蜀香串串火锅后厨打过工，他们把客人吃剩的锅底油倒进大桶，过滤以后第二天接着用，请监管部门去查。', business: '九江市浔阳区蜀香串串火锅', region: '360403' },
  { kind: 'news', title: '吉安一养殖户使用禁用兽药喂养鸡鸭 被移送公安', body: '11月26日，吉安市吉州区市场监管局联合农业农村部门在一家养殖场抽检发现，出栏肉鸭中检出禁用兽药氯霉素，涉事养殖户已被移送公安机关。' },
  { kind: 'complaint', title: '网上买的自制牛肉干没有生产许可', body: '在上饶一个主播直播间买的手工牛肉干，包装上没有生产许可证编号也没有生产日期，吃了以后拉肚子，主播说是自己家做的。', business: '上饶市广信区某直播间', region: '361104' },
  { kind: 'news', title: '抚州临川区查获一批无中文标签进口冻品', body: '11月27日，抚州市临川区市场监管局在一冷库检查时发现一批无中文标签、无检验检疫证明的进口冷冻牛肉，共计1.2吨，已全部查封，来源正在追查。' },
  { kind: 'notice', title: '江西省市场监管局关于12批次食品抽检不合格情况的通告', body: '近期，省市场监管局组织抽检发现12批次食品不合格，涉及农药残留超标、微生物污染、食品添加剂超范围使用等问题，不合格产品已责令下架召回，相关生产经营者已被立案查处。' },
  { kind: 'complaint', title: '面包店的吐司有霉点', body: '在高安市瑞州街道香满园面包店买了一袋吐司，回家打开发现中间有一块霉点，看包装上是昨天生产的，店员说可能是包装漏气了。', business: '高安市瑞州街道香满园面包店', region: '360983' },
  { kind: 'news', title: '景德镇一保健品会销宣称能治糖尿病 涉嫌虚假宣传', body: '11月27日，景德镇市珠山区市场监管局查处一起保健食品会议营销案，涉事公司在老年人讲座中宣称其产品能治疗糖尿病、高血压，现场查扣产品300余盒。' },
  { kind: 'complaint', title: '东湖区一奶茶店用过期原料', body: '南昌市东湖区叶雨奶茶店用过期的奶精和珍珠做奶茶，我在里面兼职看到的，原料都过期一个多月了还在用。', business: '南昌市东湖区叶雨奶茶店', region: '360102' },
  { kind: 'news', title: '萍乡一食品厂非法添加工业明胶生产果冻 被查处', body: '11月28日，萍乡市安源区市场监管局在一家食品生产企业查获使用工业明胶生产的果冻800余箱，涉事企业负责人已被立案调查，产品全部封存。' },
  { kind: 'complaint', title: '鄱阳饶州购物超市卖过期牛奶', body: '在鄱阳县饶州购物超市买的纯牛奶已经过期五天了，喝了以后肚子疼，超市不给退，请监管部门处理。', business: '鄱阳县饶州购物超市', region: '361128' },
  { kind: 'news', title: '新余一中学食堂未落实陪餐制度 校长被约谈', body: '11月27日，新余市渝水区市场监管局联合教育部门检查发现，某中学食堂未落实校领导陪餐制度，部分食材无进货查验记录，校长已被约谈，食堂被责令限期整改。' },
  { kind: 'news', title: '鹰潭月湖区一餐馆使用病死猪肉 负责人被刑拘', body: '11月26日，鹰潭市月湖区市场监管局在一家餐馆冷库中查获来源不明的病死猪肉120公斤，涉事餐馆负责人已被公安机关刑事拘留。' },
  { kind: 'complaint', title: '章贡区惠万家超市鸡蛋散黄', body: '在赣州市章贡区惠万家生鲜超市买了一盒鸡蛋，15个里面有4个散黄发臭，超市说是天气原因，不给换。', business: '赣州市章贡区惠万家生鲜超市（文清路店）', region: '360702' },
  { kind: 'news', title: '都昌县一无证腌鱼作坊被取缔', body: '11月27日，都昌县市场监管局在多宝乡查获一处无证腌鱼作坊，现场卫生脏乱，腌制用盐为工业盐，查扣腌鱼600余斤，作坊已被取缔。' },
  { kind: 'complaint', title: '进贤罗溪镇中心小学食堂饭里有虫子', body: '进贤县罗溪镇中心小学食堂的饭菜里吃出虫子，孩子说青菜没洗干净，经常有虫子，食堂卫生太差了，请监管部门去查查。', business: '进贤县罗溪镇中心小学食堂', region: '360124' },
  { kind: 'news', title: '九江濂溪区一超市销售过期进口冻牛肉 被立案调查', body: '11月28日，九江市濂溪区一家超市被查出销售过期进口冻牛肉，执法人员现场扣押冻品120公斤，并对经营者立案调查。' },
];

const BASE = Date.parse('2026-11-27T12:00:00+08:00');
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();

/** The 50 raw items in arrival order (news first, reposts and complaints interleaved). */
export function incidentStream(): StreamItem[] {
  const out: StreamItem[] = [];
  STORIES.forEach((s, si) => {
    const make = (kind: ItemKind, n: { title: string; body: string }, source: string, minutes: number, business?: string): StreamItem => {
      const key = `${s.truth}-${source}-${minutes}`;
      return {
        truth: s.truth,
        raw: {
          id: itemId(source, key),
          sourceId: source,
          kind,
          title: n.title,
          body: n.body,
          publishedAt: at(minutes),
          fetchedAt: at(minutes + 1),
          ...(kind === 'complaint' ? { regionHint: s.region } : {}),
          fields: business ? { 被投诉主体: business } : {},
        },
      };
    };
    const t0 = si * 90;
    out.push(make('news', s.news, 'jx-news', t0));
    s.reposts.forEach((edit, ri) => out.push(make('news', edit(s.news), ['weibo', 'toutiao', 'wechat'][ri]!, t0 + 30 + ri * 45)));
    s.complaints.forEach((c, ci) => out.push(make('complaint', c, 'hotline-12315', t0 + 60 + ci * 200, s.business)));
  });
  UNRELATED.forEach((u, ui) => {
    out.push({
      truth: `unrelated-${ui + 1}`,
      raw: {
        id: itemId(u.kind === 'complaint' ? 'hotline-12315' : u.kind === 'notice' ? 'jx-samr' : 'jx-news', `u${ui}`),
        sourceId: u.kind === 'complaint' ? 'hotline-12315' : u.kind === 'notice' ? 'jx-samr' : 'jx-news',
        kind: u.kind,
        title: u.title,
        body: u.body,
        publishedAt: at(20 + ui * 37),
        fetchedAt: at(21 + ui * 37),
        ...(u.region ? { regionHint: u.region } : {}),
        fields: u.business ? { 被投诉主体: u.business } : {},
      },
    });
  });
  return out.sort((a, b) => a.raw.publishedAt.localeCompare(b.raw.publishedAt) || a.raw.id.localeCompare(b.raw.id));
}
