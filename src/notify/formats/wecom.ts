import type { Alert } from '../../core/types.ts';
import {
  alertView, digestMarkdown, fitBytes, markdownHead, markdownTail, plain,
  type RenderOptions, type RenderedMessage, type RobotChannel,
} from './render.ts';

/*
 * WeCom group robot (企业微信群机器人), markdown message. The robot's key is in the URL; there is
 * no signature. The markdown `content` may be at most 4096 bytes of UTF-8, so the summary is cut
 * to fit (on a code-point boundary) and the header, terms and desk link always survive. WeCom
 * markdown colours text only with info / comment / warning.
 */

export const WECOM_MAX_CONTENT_BYTES = 4096;

const HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const FONT = { 红: 'warning', 橙: 'warning', 黄: 'comment', 蓝: 'info' } as const;

const body = (content: string) => JSON.stringify({ msgtype: 'markdown', markdown: { content } });

export function render(alert: Alert, channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  const v = alertView(alert, opts);
  const head = markdownHead(v, `<font color="${FONT[v.level]}">${v.levelLabel}</font>`).join('\n');
  const tail = markdownTail(v).join('\n');
  const content = fitBytes(v.summary, (s) => `${head}\n> 摘要：${s}\n${tail}`, WECOM_MAX_CONTENT_BYTES);
  return { url: channel.url, headers: { ...HEADERS }, body: body(content) };
}

export function renderDigest(alerts: readonly Alert[], channel: RobotChannel, opts: RenderOptions = {}): RenderedMessage {
  if (!alerts.length) throw new Error('renderDigest: no alerts');
  const content = digestMarkdown(alerts, opts, WECOM_MAX_CONTENT_BYTES, (md) => md);
  return { url: channel.url, headers: { ...HEADERS }, body: body(content) };
}

/** A plain notice (the channels page's test message). */
export function renderText(title: string, lines: readonly string[], channel: RobotChannel, _opts: RenderOptions = {}): RenderedMessage {
  return { url: channel.url, headers: { ...HEADERS }, body: body([`### ${plain(title)}`, ...lines.map(plain)].join('\n')) };
}
