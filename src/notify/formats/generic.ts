import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the base64
 * part of a `whsec_` secret. The id stays the same on every retry so receivers deduplicate.
 */
function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function signStandardWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSec}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function standardWebhookHeaders(secret: string | undefined, id: string, body: string, now = Date.now()) {
  const ts = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
  };
  if (secret) headers['webhook-signature'] = signStandardWebhook(secret, id, ts, body);
  return headers;
}

/** Receiver-side check (also what our tests use): any listed signature may match; 5 min tolerance. */
export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  now = Date.now(),
  toleranceSec = 300,
): boolean {
  const h = (k: string) => {
    const v = headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = h('webhook-id');
  const ts = Number(h('webhook-timestamp'));
  const sig = h('webhook-signature');
  if (!id || !sig || !Number.isFinite(ts)) return false;
  if (Math.abs(now / 1000 - ts) > toleranceSec) return false;
  const expected = Buffer.from(signStandardWebhook(secret, id, ts, body).slice(3), 'base64');
  return sig.split(' ').some((part) => {
    const [v, b64] = part.split(',');
    if (v !== 'v1' || !b64) return false;
    const got = Buffer.from(b64, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
