import type { Store } from '../store/store.ts';
import type { Delivery, DeliveryHandler } from './queue.ts';
import { PermanentDeliveryError } from './queue.ts';
import type { ChannelConfig, Routes } from '../config/routes.ts';
import type { Alert } from '../core/types.ts';
import type { AlertEvent } from '../alerts/stage.ts';
import { alertEvent, type WebhookChannel } from './webhook.ts';
import { standardWebhookHeaders } from './formats/generic.ts';
import * as dingtalk from './formats/dingtalk.ts';
import * as wecom from './formats/wecom.ts';
import * as feishu from './formats/feishu.ts';
import { SlidingWindowLimiter } from './ratelimit.ts';

/** Robots cap messages per minute; other endpoints are not limited here. */
const ROBOT_KINDS = new Set(['dingtalk', 'wecom', 'feishu']);

export interface SenderDeps {
  store: Store;
  routes: Routes | null;
  /** Catch-all generic channels (SENTINEL_WEBHOOK_URL and the pipeline's webhooks), by name. */
  catchAll: WebhookChannel[];
  deskUrl?: string;
  timeoutMs?: number;
  limiter?: SlidingWindowLimiter;
}

interface Target {
  kind: 'webhook' | 'dingtalk' | 'wecom' | 'feishu';
  url: string;
  secret?: string;
}

/**
 * Sends one queued delivery: looks up its channel (secrets come from the channel config, never
 * from the job), renders the alert as it is now in that channel's format, posts it. A 4xx or a
 * robot's permanent error code is a dead letter at once; 5xx, 429, a robot's rate-limit code and
 * network errors are retried by the queue with backoff, under the same delivery id.
 */
export function createSender(d: SenderDeps): DeliveryHandler {
  const limiter = d.limiter ?? new SlidingWindowLimiter();
  const targets = new Map<string, Target>();
  for (const c of d.catchAll) targets.set(c.name, { kind: 'webhook', url: c.url, secret: c.secret });
  for (const o of d.routes?.offices ?? []) {
    for (const c of [...o.channels, ...o.fallback] as ChannelConfig[]) {
      if (c.enabled) targets.set(c.name, { kind: c.kind, url: c.url, secret: c.secret });
    }
  }

  return async (delivery: Delivery) => {
    const target = targets.get(delivery.channel);
    if (!target) throw new PermanentDeliveryError(`channel '${delivery.channel}' is not configured (or its variables are unset)`);
    const ev = delivery.payload as AlertEvent;
    const alert = await d.store.getAlert(ev.alertId ?? delivery.alertId);
    if (!alert) throw new Error(`alert ${delivery.alertId} is not in the store yet`);
    if (ROBOT_KINDS.has(target.kind)) {
      const endpoint = target.url.split('?')[0]!;
      const now = new Date();
      if (!limiter.take(endpoint, now)) {
        throw new Error(`rate limit of ${delivery.channel} reached; next free slot ${limiter.nextFree(endpoint, now).toISOString()}`);
      }
    }
    const req = render(target, alert, ev, delivery.id, d.deskUrl);
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
      throw new Error(`POST ${delivery.channel}: ${(err as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const msg = `POST ${delivery.channel}: HTTP ${res.status}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentDeliveryError(msg);
      throw new Error(msg);
    }
    if (ROBOT_KINDS.has(target.kind)) checkRobotReply(delivery.channel, text);
  };
}

function render(t: Target, alert: Alert, ev: AlertEvent, id: string, deskUrl?: string) {
  const opts = { deskUrl };
  switch (t.kind) {
    case 'dingtalk':
      return dingtalk.render(alert, { url: t.url, secret: t.secret }, opts);
    case 'wecom':
      return wecom.render(alert, { url: t.url, secret: t.secret }, opts);
    case 'feishu':
      return feishu.render(alert, { url: t.url, secret: t.secret }, opts);
    case 'webhook': {
      const body = JSON.stringify({ ...alertEvent(alert, deskUrl), type: `alert.${ev.event ?? 'raised'}`, ...(ev.tier ? { tier: ev.tier } : {}) });
      return { url: t.url, headers: standardWebhookHeaders(t.secret, id, body), body };
    }
  }
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
