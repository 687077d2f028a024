import { createHmac } from 'node:crypto';
import type { Alert, Level } from '../../core/types.ts';
import {
  alertView, digestMarkdown, fitBytes, headline, plain, utf8Bytes,
  type RenderOptions, type RenderedMessage, type RobotChannel,
} from './render.ts';

/*
 * Feishu custom bot (自定义机器人), interactive card. With 签名校验 the body carries `timestamp`
 * (seconds, as a string) and `sign` = base64(HMAC-SHA256(key = "<timestamp>\n<secret>", message =
 * empty)) — the key/message roles are the reverse of DingTalk's. Feishu caps the request body at
 * 20 KB; the card's text is cut to fit.
 */

export const FEISHU_MAX_BODY_BYTES = 20_000;

export function feishuSign(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64');
}

const HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const TEMPLATE: Record<Level, string> = { 红: 'red', 橙: 'orange', 黄: 'yellow', 蓝: 'blue' };

function signed(channel: RobotChannel, now: number): Record<string, string> {
  if (!channel.secret) return {};
  const ts = Math.floor(now / 1000);
  return { timestamp: String(ts), sign: feishuSign(channel.secret, ts) };
}

function card(title: string, template: string, md: string, link?: string) {
  const elements: unknown[] = [{ tag: 'div', text: { tag: 'lark_md', content: md } }];
  if (link) {
    elements.push({
      tag: 'action',
      actions: [{ tag: 'button', text: { tag: 'plain_text', content: '到值班台处置' }, type: 'primary', url: link }],
    });
  }
  return { config: { wide_screen_mode: true }, header: { title: { tag: 'plain_text', content: title }, template }, elements };
}

export function render(alert: Alert, channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  const v = alertView(alert, opts);
  const sig = signed(channel, opts.now ?? Date.now());
  const lines = [
    `**${v.title}**`,
    `**地区：**${v.place}`,
    `**类别：**${v.category}`,
    `**命中词：**${v.terms}`,
    `**信息条数：**${v.itemCount}条（${v.sourceCount}个来源）`,
    `**首次发现：**${v.firstSeen}`,
  ].join('\n');
  const build = (s: string) =>
    JSON.stringify({ ...sig, msg_type: 'interactive', card: card(`食安哨兵 ${headline(v)}`, TEMPLATE[v.level], `${lines}\n**摘要：**${s}`, v.link) });
  return { url: channel.url, headers: { ...HEADERS }, body: fitBytes(v.summary, build, FEISHU_MAX_BODY_BYTES) };
}

export function renderDigest(alerts: readonly Alert[], channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  if (!alerts.length) throw new Error('renderDigest: no alerts');
  const sig = signed(channel, opts.now ?? Date.now());
  const worst = alerts.some((a) => a.level === '红') ? '红' : alerts.some((a) => a.level === '橙') ? '橙' : alerts.some((a) => a.level === '黄') ? '黄' : '蓝';
  const build = (md: string) => {
    // The digest's first line is its heading: in a card it belongs in the header.
    const [first, ...rest] = md.split('\n');
    return JSON.stringify({ ...sig, msg_type: 'interactive', card: card(first!.replace(/^#+\s*/, ''), TEMPLATE[worst], rest.join('\n')) });
  };
  const json = digestMarkdown(alerts, opts, FEISHU_MAX_BODY_BYTES, build);
  if (utf8Bytes(json) > FEISHU_MAX_BODY_BYTES) throw new Error('feishu digest over the body limit');
  return { url: channel.url, headers: { ...HEADERS }, body: json };
}

/** A plain notice (the channels page's test message): a text message, signed like any message. */
export function renderText(title: string, lines: readonly string[], channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  const sig = signed(channel, opts.now ?? Date.now());
  const text = [plain(title), ...lines.map(plain)].join('\n');
  return { url: channel.url, headers: { ...HEADERS }, body: JSON.stringify({ ...sig, msg_type: 'text', content: { text } }) };
}
