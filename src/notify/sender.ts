import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { Delivery, DeliveryHandler, DigestHandler } from './queue.ts';
import { DeferDelivery, PermanentDeliveryError } from './queue.ts';
import type { ChannelConfig, ChannelKind, Routes } from '../config/routes.ts';
import type { Alert } from '../core/types.ts';
import type { AlertEvent } from '../alerts/stage.ts';
import { alertEvent, type WebhookChannel } from './webhook.ts';
import { standardWebhookHeaders } from './formats/generic.ts';
import type { RenderedMessage } from './formats/render.ts';
import * as dingtalk from './formats/dingtalk.ts';
import * as wecom from './formats/wecom.ts';
import * as feishu from './formats/feishu.ts';
import { SlidingWindowLimiter } from './ratelimit.ts';
import { redact, urlSecrets } from '../core/redact.ts';

/** Robots cap messages per minute; other endpoints are not limited here. */
const ROBOT_KINDS = new Set(['dingtalk', 'wecom', 'feishu']);
const ROBOTS = { dingtalk, wecom, feishu } as const;

/** The text of the channels page's test message. */
export const TEST_MESSAGE = '食安哨兵测试消息';

export interface SenderDeps {
  store: Store;
  routes: Routes | null;
  /** Catch-all generic channels (SENTINEL_WEBHOOK_URL and the pipeline's webhooks), by name. */
  catchAll: WebhookChannel[];
  deskUrl?: string;
  timeoutMs?: number;
  limiter?: SlidingWindowLimiter;
  /** The rate limiter's clock (ms); tests pin it. Signatures always use the real time, as receivers check it. */
  now?: () => number;
}

interface Target {
  kind: ChannelKind;
  url: string;
  secret?: string;
}

/** What a test message did, for POST /api/v1/channels/:name/test. */
export interface TestOutcome {
  channel: string;
  ok: boolean;
  /** HTTP status of the receiver, when it answered. */
  status?: number;
  error?: string;
  /** When the robot's rate limit refused the message: the next free slot. */
  retryAt?: string;
  ms: number;
}

export interface Sender extends DeliveryHandler {
  /** Sends several deliveries of one channel as one digest message (the queue's `digest` option). */
  digest: DigestHandler;
  /** Sends the test message through a channel now and reports the outcome; never throws. */
  sendTest(channel: string, sentBy: string): Promise<TestOutcome>;
}

/**
 * Sends one queued delivery: looks up its channel (secrets come from the channel config, never
 * from the job), renders the alert as it is now in that channel's format, posts it. A 4xx or a
 * robot's permanent error code is a dead letter at once; 5xx, 429, a robot's rate-limit code and
 * network errors are retried by the queue with backoff, under the same delivery id.
 *
 * Robots take 20 messages a minute. When the budget is spent the delivery is deferred
 * (DeferDelivery, until the next free slot) rather than failed; the queue then hands every
 * delivery waiting for that channel to `digest`, which sends them as one message. The limiter
 * lives in this process: several notify workers each keep their own budget (document the
 * deployment as one notify worker per robot, or accept that robots may refuse the excess, which
 * is retried).
 */
export function createSender(d: SenderDeps): Sender {
  const limiter = d.limiter ?? new SlidingWindowLimiter();
  const clock = d.now ?? (() => Date.now());
  const targets = new Map<string, Target>();
  const disabled = new Map<string, string>();
  for (const c of d.catchAll) targets.set(c.name, { kind: 'webhook', url: c.url, secret: c.secret });
  for (const o of d.routes?.offices ?? []) {
    for (const c of [...o.channels, ...o.fallback] as ChannelConfig[]) {
      if (c.enabled) targets.set(c.name, { kind: c.kind, url: c.url, secret: c.secret });
      else disabled.set(c.name, c.disabledReason ?? 'disabled');
    }
  }

  const targetOf = (channel: string): Target => {
    const t = targets.get(channel);
    if (!t) throw new PermanentDeliveryError(`channel '${channel}' is not configured (or its variables are unset)`);
    return t;
  };

  /** Takes a slot of a robot's per-minute budget, or defers until one is free. */
  const takeSlot = (channel: string, t: Target): void => {
    if (!ROBOT_KINDS.has(t.kind)) return;
    const endpoint = t.url.split('?')[0]!;
    const now = clock();
    if (!limiter.take(endpoint, now)) {
      const next = limiter.nextFree(endpoint, now);
      throw new DeferDelivery(`rate limit of ${channel} reached; waiting for a digest at ${next.toISOString()}`, next);
    }
  };

  const postOnce = async (channel: string, t: Target, req: RenderedMessage): Promise<number> => {
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(d.timeoutMs ?? 10_000),
      });
    } catch (err) {
      // "fetch failed" alone tells the desk nothing; the cause says refused, not found, timed out
      const cause = (err as Error & { cause?: unknown }).cause;
      const why = cause instanceof Error && cause.message ? ` (${cause.message})` : '';
      throw new Error(`POST ${channel}: ${(err as Error).message}${why}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const msg = `POST ${channel}: HTTP ${res.status}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentDeliveryError(msg);
      throw new Error(msg);
    }
    if (ROBOT_KINDS.has(t.kind)) checkRobotReply(channel, text);
    return res.status;
  };

  /**
   * Every error leaving here is stored with the delivery and shown on the alert page (county
   * offices too) and in the queue, so it is stripped of the channel's secret and the tokens of its
   * URL: Node quotes a URL it cannot use whole, and a receiver's reply is anybody's text.
   */
  const post = async (channel: string, t: Target, req: RenderedMessage): Promise<number> => {
    try {
      return await postOnce(channel, t, req);
    } catch (err) {
      const secrets = [t.secret, ...urlSecrets(t.url), ...urlSecrets(req.url)];
      const msg = redact(err instanceof Error ? err.message : String(err), secrets);
      throw err instanceof PermanentDeliveryError ? new PermanentDeliveryError(msg) : new Error(msg);
    }
  };

  const alertOf = async (id: string): Promise<Alert> => {
    const alert = await d.store.getAlert(id);
    if (!alert) throw new Error(`alert ${id} is not in the store yet`);
    return alert;
  };

  const send = (async (delivery: Delivery): Promise<void> => {
    const target = targetOf(delivery.channel);
    const ev = delivery.payload as AlertEvent;
    const alert = await alertOf(ev.alertId ?? delivery.alertId);
    takeSlot(delivery.channel, target);
    await post(delivery.channel, target, render(target, alert, ev, delivery.id, d.deskUrl));
  }) as unknown as Sender;

  send.digest = async (channel, deliveries, digestId) => {
    const target = targetOf(channel);
    // One line per alert: an alert both raised and escalated in the wait is listed once.
    const ids = [...new Set(deliveries.map((x) => (x.payload as AlertEvent).alertId ?? x.alertId))];
    const alerts: Alert[] = [];
    for (const id of ids) alerts.push(await alertOf(id));
    takeSlot(channel, target);
    await post(channel, target, renderDigest(target, alerts, digestId, d.deskUrl));
  };

  send.sendTest = async (channel, sentBy) => {
    const started = Date.now();
    const out = (o: Omit<TestOutcome, 'channel' | 'ms'>): TestOutcome => ({ channel, ...o, ms: Date.now() - started });
    const off = disabled.get(channel);
    if (off) return out({ ok: false, error: `通道未启用：${off}` });
    const target = targets.get(channel);
    if (!target) return out({ ok: false, error: `通道 ${channel} 未配置` });
    try {
      takeSlot(channel, target);
      const lines = [`通道：${channel}`, `发送人：${sentBy}`, `时间：${new Date().toISOString()}`, '收到本消息说明通道配置正确，无需处置。'];
      const req = ROBOT_KINDS.has(target.kind)
        ? ROBOTS[target.kind as keyof typeof ROBOTS].renderText(TEST_MESSAGE, lines, target)
        : genericBody(target, `test.${randomUUID()}`, { type: 'test', message: TEST_MESSAGE, channel, sentBy, at: new Date().toISOString() });
      const status = await post(channel, target, req);
      return out({ ok: true, status });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const status = /HTTP (\d{3})/.exec(msg)?.[1];
      return out({
        ok: false,
        error: msg,
        ...(status ? { status: Number(status) } : {}),
        ...(err instanceof DeferDelivery ? { retryAt: err.until.toISOString() } : {}),
      });
    }
  };
  return send;
}

function genericBody(t: Target, id: string, payload: unknown): RenderedMessage {
  const body = JSON.stringify(payload);
  return { url: t.url, headers: standardWebhookHeaders(t.secret, id, body), body };
}

function render(t: Target, alert: Alert, ev: AlertEvent, id: string, deskUrl?: string): RenderedMessage {
  const opts = { deskUrl };
  if (t.kind === 'webhook') {
    return genericBody(t, id, { ...alertEvent(alert, deskUrl), type: `alert.${ev.event ?? 'raised'}`, ...(ev.tier ? { tier: ev.tier } : {}) });
  }
  return ROBOTS[t.kind].render(alert, { url: t.url, secret: t.secret }, opts);
}

function renderDigest(t: Target, alerts: Alert[], digestId: string, deskUrl?: string): RenderedMessage {
  if (t.kind === 'webhook') {
    // Generic endpoints are not rate limited, so this only runs if one defers; keep it one signed event.
    return genericBody(t, digestId, { type: 'alert.digest', id: digestId, alerts: alerts.map((a) => alertEvent(a, deskUrl).alert) });
  }
  return ROBOTS[t.kind].renderDigest(alerts, { url: t.url, secret: t.secret }, { deskUrl });
}

/**
 * Robots answer HTTP 200 with an error code in the body. Their rate-limit codes are retried;
 * every other non-zero code (bad signature, bad token, bad message) cannot be fixed by retrying.
 */
const RETRIABLE_ROBOT_CODES = new Set([130101, 45009, 9499, 11232, -1]);

function checkRobotReply(channel: string, text: string): void {
  let code: number | undefined;
  let msg = '';
  try {
    const j = JSON.parse(text) as { errcode?: number; errmsg?: string; code?: number; msg?: string; StatusCode?: number };
    code = j.errcode ?? j.code ?? j.StatusCode;
    msg = j.errmsg ?? j.msg ?? '';
  } catch {
    return; // a 2xx without JSON: nothing more to learn
  }
  if (!code) return;
  const err = `${channel} refused the message: ${code} ${msg}`.trim();
  if (RETRIABLE_ROBOT_CODES.has(code)) throw new Error(err);
  throw new PermanentDeliveryError(err);
}
