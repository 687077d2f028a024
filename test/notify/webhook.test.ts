import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStandardWebhook, standardWebhookHeaders, verifyStandardWebhook } from '../../src/notify/formats/generic.ts';
import { sendWebhook } from '../../src/notify/webhook.ts';
import { PermanentDeliveryError } from '../../src/notify/queue.ts';

const secret = 'whsec_' + Buffer.from('a-very-secret-key-for-tests-0001').toString('base64');

describe('Standard Webhooks signing', () => {
  const body = JSON.stringify({ type: 'alert.raised', alert: { id: 'a1', title: '学生集体呕吐' } });

  it('signs id.timestamp.body with HMAC-SHA256 and the verifier accepts it', () => {
    const h = standardWebhookHeaders(secret, 'd1', body, 1_764_400_000_000);
    expect(h['webhook-id']).toBe('d1');
    expect(h['webhook-timestamp']).toBe('1764400000');
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(verifyStandardWebhook(secret, h, body, 1_764_400_000_000)).toBe(true);
  });

  it('rejects a tampered body, a wrong secret, a stale timestamp and missing headers', () => {
    const now = 1_764_400_000_000;
    const h = standardWebhookHeaders(secret, 'd1', body, now);
    expect(verifyStandardWebhook(secret, h, body.replace('a1', 'a2'), now)).toBe(false);
    expect(verifyStandardWebhook('whsec_' + Buffer.from('other').toString('base64'), h, body, now)).toBe(false);
    expect(verifyStandardWebhook(secret, h, body, now + 6 * 60_000)).toBe(false);
    expect(verifyStandardWebhook(secret, { ...h, 'webhook-signature': undefined }, body, now)).toBe(false);
  });

  it('matches the reference example of the Standard Webhooks spec', () => {
    // from the spec's README: secret, msg id, timestamp and payload → signature
    const sig = signStandardWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('sendWebhook', () => {
  let server: Server;
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const listen = (status: number, seen: { headers: Record<string, unknown>; body: string }[]) =>
    new Promise<string>((resolve) => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          seen.push({ headers: req.headers, body });
          res.statusCode = status;
          res.end();
        });
      }).listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`));
    });

  it('posts a signed JSON body the receiver can verify', async () => {
    const seen: { headers: Record<string, unknown>; body: string }[] = [];
    const url = await listen(204, seen);
    await sendWebhook({ name: 'catch-all', url, secret }, { id: 'a1.catch-all.raised', alertId: 'a1', channel: 'catch-all', payload: { hello: '食安' } });
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!.body)).toEqual({ hello: '食安' });
    expect(verifyStandardWebhook(secret, seen[0]!.headers as Record<string, string>, seen[0]!.body)).toBe(true);
    expect(seen[0]!.headers['webhook-id']).toBe('a1.catch-all.raised');
  });

  it('treats 4xx as permanent and 5xx as retriable', async () => {
    const seen: { headers: Record<string, unknown>; body: string }[] = [];
    let url = await listen(400, seen);
    await expect(sendWebhook({ name: 'x', url }, { id: 'd', alertId: 'a', channel: 'x', payload: {} })).rejects.toBeInstanceOf(PermanentDeliveryError);
    await new Promise<void>((r) => server.close(() => r()));
    url = await listen(503, seen);
    const err = await sendWebhook({ name: 'x', url }, { id: 'd', alertId: 'a', channel: 'x', payload: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentDeliveryError);
    expect(String(err.message)).toContain('HTTP 503');
  });
});
