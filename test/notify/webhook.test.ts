import { describe, it, expect } from 'vitest';
import { signStandardWebhook, standardWebhookHeaders, verifyStandardWebhook } from '../../src/notify/formats/generic.ts';

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

