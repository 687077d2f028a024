import type { Alert, ScoredItem } from '../../src/core/types.ts';
import type { DeliveryState } from '../../src/notify/queue.ts';

/** Finds the offsets of `term` in `text`, the way the scorer reports them. */
function at(text: string, term: string): { start: number; end: number } {
  const start = text.indexOf(term);
  if (start < 0) throw new Error(`fixture: "${term}" not in text`);
  return { start, end: start + term.length };
}

function item(over: Partial<ScoredItem> & Pick<ScoredItem, 'id' | 'sourceId' | 'kind' | 'title' | 'body'>): ScoredItem {
  const text = `${over.title}\n${over.body}`;
  return {
    url: undefined,
    publishedAt: '2026-11-29T01:10:00.000Z',
    fetchedAt: '2026-11-29T01:12:00.000Z',
    fields: {},
    text,
    tokens: '',
    simhash: '0000000000000000',
    regions: [],
    category: null,
    score: 0,
    level: null,
    risk: false,
    hits: [],
    explanation: [],
    processedAt: '2026-11-29T01:12:05.000Z',
    ...over,
  };
}

const canteenText = '南昌市东湖区某小学食堂午餐后多名学生呕吐\n11月29日中午，东湖区某小学学生在学校食堂用餐后陆续出现呕吐、腹泻症状，已有6人送医观察。';
export const canteenNews = item({
  id: 'i-canteen-news',
  sourceId: 'jxnews',
  kind: 'news',
  title: '南昌市东湖区某小学食堂午餐后多名学生呕吐',
  body: '11月29日中午，东湖区某小学学生在学校食堂用餐后陆续出现呕吐、腹泻症状，已有6人送医观察。',
  url: 'https://news.example.cn/2026/11/29/canteen.html',
  tokens: '南昌市 东湖区 小学 食堂 学生 呕吐',
  regions: ['360102'],
  category: '校园集中供餐',
  score: 15,
  level: '红',
  risk: true,
  hits: [
    { rule: 'school-canteen', group: 'place', term: '小学', ...at(canteenText, '小学'), weight: 2, negated: false },
    { rule: 'school-canteen', group: 'place', term: '学校食堂', ...at(canteenText, '学校食堂'), weight: 2, negated: false },
    { rule: 'school-canteen', group: 'harm', term: '呕吐', ...at(canteenText, '呕吐'), weight: 5, negated: false },
    { rule: 'school-canteen', group: 'harm', term: '送医', ...at(canteenText, '送医'), weight: 5, negated: false },
  ],
  explanation: [
    { rule: 'school-canteen', name: '校园食品安全', category: '校园集中供餐', matched: true, score: 15, level: '红', reason: 'place and harm within 40 chars' },
  ],
});

export const canteenComplaint = item({
  id: 'i-canteen-12315',
  sourceId: 'hotline-12315',
  kind: 'complaint',
  title: '投诉：孩子在学校吃午饭后发烧呕吐',
  body: '家长反映东湖区某小学食堂饭菜有异味，孩子午饭后发烧呕吐。',
  publishedAt: '2026-11-29T02:05:00.000Z',
  regions: ['360102'],
  category: '校园集中供餐',
  score: 12,
  level: '橙',
  risk: true,
  fields: { 登记编号: '1236000020261129001' },
});

export const takeoutComplaint = item({
  id: 'i-takeout-12345',
  sourceId: 'hotline-12345',
  kind: 'complaint',
  title: '外卖商家使用过期原料',
  body: '青山湖区某外卖商家后厨使用过期肉类，已拍照留存。',
  publishedAt: '2026-11-28T12:00:00.000Z',
  regions: ['360111'],
  category: '餐饮服务',
  score: 9,
  level: '黄',
  risk: true,
});

export const quietNotice = item({
  id: 'i-notice-drill',
  sourceId: 'jx-amr',
  kind: 'notice',
  title: '全市开展校园食品安全应急演练',
  body: '市市场监管局联合教育局在某中学开展食物中毒应急演练。',
  publishedAt: '2026-11-27T08:00:00.000Z',
  regions: ['360100'],
  category: null,
});

export const ITEMS = [canteenNews, canteenComplaint, takeoutComplaint, quietNotice];

function alert(over: Partial<Alert> & Pick<Alert, 'id' | 'level' | 'category' | 'title'>): Alert {
  return {
    region: '',
    regions: [],
    summary: '',
    score: 0,
    itemIds: [],
    sources: [],
    kinds: [],
    terms: [],
    status: 'new',
    firstSeenAt: '2026-11-29T01:10:00.000Z',
    lastSeenAt: '2026-11-29T01:10:00.000Z',
    createdAt: '2026-11-29T01:12:10.000Z',
    updatedAt: '2026-11-29T01:12:10.000Z',
    history: [],
    version: 0,
    ...over,
  };
}

export const canteenAlert = alert({
  id: 'a-canteen',
  level: '红',
  category: '校园集中供餐',
  region: '360102',
  regions: ['360102'],
  title: '南昌市东湖区某小学疑似食物中毒',
  summary: '2 条信息：学生午餐后呕吐、腹泻，6 人送医',
  score: 15,
  itemIds: ['i-canteen-news', 'i-canteen-12315'],
  sources: ['jxnews', 'hotline-12315'],
  kinds: ['news', 'complaint'],
  terms: ['学校食堂', '呕吐', '送医'],
  lastSeenAt: '2026-11-29T02:05:00.000Z',
});

export const takeoutAlert = alert({
  id: 'a-takeout',
  level: '黄',
  category: '餐饮服务',
  region: '360111',
  regions: ['360111'],
  title: '青山湖区外卖商家使用过期原料',
  score: 9,
  itemIds: ['i-takeout-12345'],
  sources: ['hotline-12345'],
  kinds: ['complaint'],
  terms: ['过期'],
  status: 'acknowledged',
  firstSeenAt: '2026-11-28T12:00:00.000Z',
  lastSeenAt: '2026-11-28T12:00:00.000Z',
  history: [{ at: '2026-11-28T12:30:00.000Z', action: 'acknowledge', actor: '张敏', from: 'new', to: 'acknowledged' }],
  version: 1,
});

export const milkAlert = alert({
  id: 'a-milk',
  level: '橙',
  category: '婴幼儿配方食品',
  region: '440305',
  regions: ['440305'],
  title: '网传某品牌奶粉罐内发现异物',
  score: 11,
  itemIds: [],
  sources: ['weibo'],
  kinds: ['news'],
  terms: ['异物'],
  status: 'closed',
  closeReason: '不属实',
  firstSeenAt: '2026-11-26T03:00:00.000Z',
  lastSeenAt: '2026-11-26T03:00:00.000Z',
  version: 3,
});

export const rumourAlert = alert({
  id: 'a-rumour',
  level: '蓝',
  category: '校园集中供餐',
  region: '',
  regions: [],
  title: '网帖称某幼儿园餐食分量不足',
  score: 4,
  sources: ['tieba'],
  kinds: ['news'],
  status: 'assigned',
  assignee: '东湖区市场监管局',
  firstSeenAt: '2026-11-27T09:00:00.000Z',
  lastSeenAt: '2026-11-27T09:00:00.000Z',
  version: 2,
});

export const ALERTS = [canteenAlert, takeoutAlert, milkAlert, rumourAlert];

export const canteenDelivery: DeliveryState = {
  id: 'a-canteen:donghu-dingtalk:created',
  alertId: 'a-canteen',
  channel: 'donghu-dingtalk',
  payload: { msgtype: 'markdown' },
  status: 'delivered',
  attempts: 1,
  lastError: null,
  nextAttemptAt: '2026-11-29T01:12:11.000Z',
  updatedAt: '2026-11-29T01:12:12.000Z',
};
