import type { Alert } from '../core/types.ts';
import type { Delivery } from './queue.ts';
import { PermanentDeliveryError } from './queue.ts';
import { standardWebhookHeaders } from './formats/generic.ts';

export interface WebhookChannel {
  /** Channel name as stored with each delivery. */
  name: string;
  url: string;
  /** From the environment only; never stored with the delivery. */
  secret?: string;
}

/** The generic event body: what a provincial system receiving the whole stream needs. */
export function alertEvent(alert: Alert, deskUrl?: string) {
  return {
    type: 'alert.raised',
    alert: {
      id: alert.id,
      level: alert.level,
      category: alert.category,
      region: alert.region,
      regions: alert.regions,
      title: alert.title,
      summary: alert.summary,
      terms: alert.terms,
      itemCount: alert.itemIds.length,
      sources: alert.sources,
      firstSeenAt: alert.firstSeenAt,
      status: alert.status,
      ...(deskUrl ? { url: `${deskUrl.replace(/\/$/, '')}/#/alerts/${encodeURIComponent(alert.id)}` } : {}),
    },
  };
}

/**
 * Sends one delivery. 4xx (other than 408/429) cannot be fixed by retrying and is permanent;
 * 5xx, 408, 429 and network errors are retried by the queue.
 */
export async function sendWebhook(channel: WebhookChannel, d: Delivery, timeoutMs = 10_000): Promise<void> {
  const body = JSON.stringify(d.payload);
  let res: Response;
  try {
    res = await fetch(channel.url, {
      method: 'POST',
      headers: standardWebhookHeaders(channel.secret, d.id, body),
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new Error(`POST ${channel.name}: ${(err as Error).message}`);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  const msg = `POST ${channel.name}: HTTP ${res.status}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    throw new PermanentDeliveryError(msg);
  }
  throw new Error(msg);
}
