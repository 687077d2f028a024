import { createHmac } from 'node:crypto';
import type { Alert } from '../../core/types.ts';
import {
  alertView, digestMarkdown, fitBytes, headline, markdownHead, markdownTail, plain, LEVEL_COLOR,
  type RenderOptions, type RenderedMessage, type RobotChannel,
} from './render.ts';

/*
 * DingTalk custom robot (自定义机器人), markdown message. With 加签 the URL carries
 * `&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key=secret, "<ms>\n<secret>")))>`; DingTalk
 * rejects a timestamp more than an hour off. The whole request body may be at most 20,000 bytes.
 */

export const DINGTALK_MAX_BODY_BYTES = 20_000;

/** base64(HMAC-SHA256(key = secret, message = `${timestampMs}\n${secret}`)), not yet URL-encoded. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** The robot URL with timestamp and sign appended (unchanged when the channel has no secret). */
export function signedDingtalkUrl(url: string, secret: string | undefined, timestampMs: number): string {
  if (!secret) return url;
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}timestamp=${timestampMs}&sign=${encodeURIComponent(dingtalkSign(secret, timestampMs))}`;
}

const HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function body(title: string, text: string): string {
  return JSON.stringify({ msgtype: 'markdown', markdown: { title, text } });
}

export function render(alert: Alert, channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  const v = alertView(alert, opts);
  const head = markdownHead(v, `<font color=${LEVEL_COLOR[v.level]}>${v.levelLabel}</font>`).join('\n\n');
  const tail = markdownTail(v).join('\n\n');
  const title = headline(v);
  const json = fitBytes(v.summary, (s) => body(title, `${head}\n\n> 摘要：${s}\n\n${tail}`), DINGTALK_MAX_BODY_BYTES);
  return { url: signedDingtalkUrl(channel.url, channel.secret, opts.now ?? Date.now()), headers: { ...HEADERS }, body: json };
}

/** Several alerts in one message, for when the robot's 20-a-minute limit would be exceeded. */
export function renderDigest(alerts: readonly Alert[], channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  if (!alerts.length) throw new Error('renderDigest: no alerts');
  const title = `食安哨兵预警汇总（${alerts.length}条）`;
  const json = digestMarkdown(alerts, opts, DINGTALK_MAX_BODY_BYTES, (md) => body(title, md.replace(/\n/g, '\n\n')));
  return { url: signedDingtalkUrl(channel.url, channel.secret, opts.now ?? Date.now()), headers: { ...HEADERS }, body: json };
}

/** A plain notice (the channels page's test message): a title and lines, signed like any message. */
export function renderText(title: string, lines: readonly string[], channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  const text = [`### ${plain(title)}`, ...lines.map(plain)].join('\n\n');
  return { url: signedDingtalkUrl(channel.url, channel.secret, opts.now ?? Date.now()), headers: { ...HEADERS }, body: body(plain(title), text) };
}
