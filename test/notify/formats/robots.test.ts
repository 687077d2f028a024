import { describe, it, expect } from 'vitest';
import { createHmac } from 'node:crypto';
import type { Alert } from '../../../src/core/types.ts';
import * as dingtalk from '../../../src/notify/formats/dingtalk.ts';
import * as wecom from '../../../src/notify/formats/wecom.ts';
import * as feishu from '../../../src/notify/formats/feishu.ts';
import { plain, truncateUtf8, utf8Bytes, placeName } from '../../../src/notify/formats/render.ts';
import { alert } from '../../alerts/fixtures.ts';

const NOW = 1764216000000; // 2025-11-27T04:00:00Z
const DESK = 'https://desk.example.gov.cn/';
const opts = { deskUrl: DESK, now: NOW };
const LINK = 'https://desk.example.gov.cn/#/alerts/a0123456789abcdef0123456';

/** A complaint-sized Chinese text many times over: 3 bytes a character in UTF-8. */
const LONG = '孩子在学校食堂吃了午饭以后肚子疼还呕吐，班上好多同学都这样。'.repeat(600);
/** Untrusted item text trying to break out of the message structure. */
const HOSTILE = '正文\n\n# 假标题\n> 引用\n[点我](http://evil.example/) ![图](http://evil.example/x.png) <font color=red>红字</font> **粗** `代码` | 表 |';

const mdOf = (body: string, key: 'text' | 'content') => (JSON.parse(body) as { markdown: Record<string, string> }).markdown[key]!;

describe('shared rendering', () => {
  it('plain() leaves no markdown or HTML control characters and no line breaks in untrusted text', () => {
    const p = plain(HOSTILE);
    expect(p).not.toMatch(/[\n\r#>[\]()<`|*]/);
    expect(p).toContain('＃ 假标题');
    expect(p).toContain('［点我］（http://evil.example/）');
  });

  it('truncateUtf8 cuts on a code-point boundary within the byte budget', () => {
    const s = '食安🍚哨兵'.repeat(50);
    for (const max of [1, 2, 3, 4, 5, 7, 10, 100, 301]) {
      const t = truncateUtf8(s, max);
      expect(utf8Bytes(t)).toBeLessThanOrEqual(max);
      expect(t).not.toContain('\uFFFD');
      expect(Buffer.from(t, 'utf8').toString('utf8')).toBe(t);
      expect(/[\uD800-\uDBFF]…?$/.test(t)).toBe(false);
    }
    expect(truncateUtf8('短文本', 100)).toBe('短文本');
  });

  it('names places from the GB/T 2260 tables', () => {
    expect(placeName('360731')).toBe('江西省赣州市于都县');
    expect(placeName('')).toBe('区划不明');
  });
});

describe('DingTalk custom robot', () => {
  it('signs the URL: timestamp in ms and urlencode(base64(HMAC-SHA256(secret, ts\\nsecret)))', () => {
    const secret = 'SEC0123456789abcdef';
    const m = dingtalk.render(alert(), { url: 'https://oapi.dingtalk.com/robot/send?access_token=abc', secret }, opts);
    const u = new URL(m.url);
    expect(u.searchParams.get('access_token')).toBe('abc');
    expect(u.searchParams.get('timestamp')).toBe(String(NOW));
    // Known vector computed with Python's hmac/base64/quote_plus as in DingTalk's documentation.
    expect(m.url.endsWith('&sign=nu5s9eU5OAOkOwTMepnm%2FBE7WJooEggGQIiQ%2B9u8Z9U%3D')).toBe(true);
    const expected = createHmac('sha256', secret).update(`${NOW}\n${secret}`).digest('base64');
    expect(u.searchParams.get('sign')).toBe(expected);
  });

  it('renders a markdown message in Chinese with level, place, category, terms, count and desk link', () => {
    const m = dingtalk.render(alert(), { url: 'https://oapi.dingtalk.com/robot/send?access_token=abc' }, opts);
    expect(m.url).toBe('https://oapi.dingtalk.com/robot/send?access_token=abc');
    expect(m.headers['content-type']).toMatch(/application\/json/);
    const body = JSON.parse(m.body);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('红色预警（I级）｜江西省赣州市于都县｜校园食品安全');
    const text: string = body.markdown.text;
    for (const s of ['红色预警（I级）', '江西省赣州市于都县', '校园食品安全', '呕吐、腹痛、食堂', '3条（2个来源）', '11月27日 12:00', `[到值班台处置](${LINK})`]) {
      expect(text).toContain(s);
    }
  });

  it('keeps the body within 20,000 bytes for a very long summary, link intact', () => {
    const m = dingtalk.render(alert({ summary: LONG, title: LONG }), { url: 'https://x/robot/send?access_token=a' }, opts);
    expect(LONG.length * 3).toBeGreaterThan(20_000);
    expect(utf8Bytes(m.body)).toBeLessThanOrEqual(dingtalk.DINGTALK_MAX_BODY_BYTES);
    expect(utf8Bytes(m.body)).toBeGreaterThan(dingtalk.DINGTALK_MAX_BODY_BYTES - 200);
    expect(mdOf(m.body, 'text')).toContain(`(${LINK})`);
    expect(m.body).not.toContain('\uFFFD');
  });

  it('untrusted text cannot add headings, links, images or HTML', () => {
    const text = mdOf(dingtalk.render(alert({ title: HOSTILE, summary: HOSTILE, terms: ['](http://x)'] }), { url: 'https://x' }, opts).body, 'text');
    expect(text.match(/^#/gm)).toHaveLength(1); // only our own heading
    expect(text.match(/\]\(/g)).toHaveLength(1); // only our own desk link
    expect(text).not.toContain('<font color=red>');
    expect(text).not.toContain('![');
  });

  it('a digest lists several alerts, most severe first, in one message', () => {
    const alerts: Alert[] = [
      alert({ id: 'a1', level: '黄', title: '超市销售过期奶粉' }),
      alert({ id: 'a2', level: '红', title: '小学学生集体呕吐' }),
      alert({ id: 'a3', level: '橙', title: '婚宴后多人腹泻', region: '361128' }),
    ];
    const m = dingtalk.renderDigest(alerts, { url: 'https://x/robot/send?access_token=a', secret: 's' }, opts);
    const text = mdOf(m.body, 'text');
    expect(text).toContain('预警汇总（3条：红1 橙1 黄1）');
    expect(text.indexOf('小学学生集体呕吐')).toBeLessThan(text.indexOf('婚宴后多人腹泻'));
    expect(text.indexOf('婚宴后多人腹泻')).toBeLessThan(text.indexOf('超市销售过期奶粉'));
    expect(text).toContain('江西省上饶市鄱阳县');
    expect(new URL(m.url).searchParams.get('sign')).toBeTruthy();
  });

  it('a digest too large for one message says how many more are on the desk', () => {
    const many = Array.from({ length: 400 }, (_, i) => alert({ id: `a${i}`, title: LONG.slice(0, 100) }));
    const m = dingtalk.renderDigest(many, { url: 'https://x' }, opts);
    expect(utf8Bytes(m.body)).toBeLessThanOrEqual(20_000);
    expect(mdOf(m.body, 'text')).toMatch(/……另有\d+条，请到值班台查看/);
  });
});

describe('WeCom group robot', () => {
  it('sends markdown to the URL with the key, unsigned', () => {
    const url = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1';
    const m = wecom.render(alert({ level: '橙' }), { url }, opts);
    expect(m.url).toBe(url);
    const content = mdOf(m.body, 'content');
    expect(content).toContain('<font color="warning">橙色预警（II级）</font>');
    expect(content).toContain(`[到值班台处置](${LINK})`);
  });

  it('keeps content within 4096 UTF-8 bytes for long Chinese text, cutting on a character boundary', () => {
    const m = wecom.render(alert({ summary: LONG, terms: Array.from({ length: 40 }, (_, i) => `术语${i}`) }), { url: 'https://x' }, opts);
    const content = mdOf(m.body, 'content');
    expect(utf8Bytes(content)).toBeLessThanOrEqual(wecom.WECOM_MAX_CONTENT_BYTES);
    expect(utf8Bytes(content)).toBeGreaterThan(4096 - 100);
    expect(content).not.toContain('\uFFFD');
    expect(content).toContain('…');
    expect(content.endsWith(`[到值班台处置](${LINK})`)).toBe(true);
  });

  it('a digest fits 4096 bytes too', () => {
    const many = Array.from({ length: 60 }, (_, i) => alert({ id: `a${i}` }));
    const content = mdOf(wecom.renderDigest(many, { url: 'https://x' }, opts).body, 'content');
    expect(utf8Bytes(content)).toBeLessThanOrEqual(4096);
    expect(content).toContain('预警汇总（60条：红60）');
    expect(content).toMatch(/另有\d+条/);
  });
});

describe('Feishu custom bot', () => {
  it('puts timestamp (seconds) and sign = base64(HMAC-SHA256(key=ts\\nsecret, empty)) in the body', () => {
    const secret = 'feishu-secret-0123';
    const m = feishu.render(alert(), { url: 'https://open.feishu.cn/open-apis/bot/v2/hook/h', secret }, opts);
    const body = JSON.parse(m.body);
    expect(body.timestamp).toBe('1764216000');
    // Known vector computed with Python's hmac as in Feishu's documentation.
    expect(body.sign).toBe('iXh6iYO/tC6sZ6GG1JN1o3LOyVsH/SWhlsXqHfcp2/E=');
    expect(body.sign).toBe(createHmac('sha256', `1764216000\n${secret}`).update(Buffer.alloc(0)).digest('base64'));
    expect(m.url).toBe('https://open.feishu.cn/open-apis/bot/v2/hook/h');
  });

  it('renders an interactive card with a coloured header and a button to the desk', () => {
    const body = JSON.parse(feishu.render(alert({ level: '黄' }), { url: 'https://x' }, opts).body);
    expect(body.timestamp).toBeUndefined();
    expect(body.msg_type).toBe('interactive');
    expect(body.card.header.template).toBe('yellow');
    expect(body.card.header.title.content).toBe('食安哨兵 黄色预警（III级）｜江西省赣州市于都县｜校园食品安全');
    expect(body.card.elements[0].text.content).toContain('**命中词：**呕吐、腹痛、食堂、名学生');
    expect(body.card.elements[1].actions[0].url).toBe(LINK);
  });

  it('stays within the body limit with long text, and a digest uses the worst level colour', () => {
    const m = feishu.render(alert({ summary: LONG }), { url: 'https://x', secret: 's' }, opts);
    expect(utf8Bytes(m.body)).toBeLessThanOrEqual(feishu.FEISHU_MAX_BODY_BYTES);
    const d = JSON.parse(feishu.renderDigest([alert({ level: '黄' }), alert({ id: 'b', level: '橙' })], { url: 'https://x' }, opts).body);
    expect(d.card.header.template).toBe('orange');
    expect(d.card.header.title.content).toBe('食安哨兵 预警汇总（2条：橙1 黄1）');
  });

  it('untrusted text cannot inject lark_md links', () => {
    const body = JSON.parse(feishu.render(alert({ summary: HOSTILE }), { url: 'https://x' }, opts).body);
    expect(body.card.elements[0].text.content).not.toMatch(/\]\(|\n#|<font/);
  });
});
