import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSender, TEST_MESSAGE } from '../../src/notify/sender.ts';
import { listChannels } from '../../src/notify/channels.ts';
import { SlidingWindowLimiter } from '../../src/notify/ratelimit.ts';
import { verifyStandardWebhook } from '../../src/notify/formats/generic.ts';
import { dingtalkSign } from '../../src/notify/formats/dingtalk.ts';
import { parseRoutes } from '../../src/config/routes.ts';
import type { Store } from '../../src/store/store.ts';

const whsec = 'whsec_' + Buffer.from('catch-all-secret-0123456789abcd').toString('base64');

describe('channels: listing and test messages', () => {
  let server: Server;
  let base = '';
  let status = 200;
  const got: { path: string; headers: Record<string, string>; body: string }[] = [];
  beforeEach(async () => {
    got.length = 0;
    status = 200;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ path: req.url ?? '', headers: req.headers as Record<string, string>, body });
        res.statusCode = status;
        res.end(req.url?.startsWith('/robot') ? '{"errcode":0,"errmsg":"ok"}' : '{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const routes = () =>
    parseRoutes(
      `
offices:
  - id: yudu-county
    name: 于都县市场监督管理局
    region: '360731'
    channels:
      - dingtalk: { url: '${base}/robot/send?access_token=\${YUDU_TOKEN}', secretEnv: YUDU_SECRET }
      - wecom: { url: '${base}/wecom?key=\${YUDU_WECOM_KEY}' }
    fallback:
      - webhook: { url: '${base}/fallback' }
`,
      'routes.yaml',
      { YUDU_TOKEN: 'tok-secret-123', YUDU_SECRET: 'SECdingtalk-yudu' },
    );
  const sender = (limiter?: SlidingWindowLimiter) =>
    createSender({ store: {} as Store, routes: routes(), catchAll: [{ name: 'catch-all', url: `${base}/all`, secret: whsec }], limiter });

  it('lists every channel with office, kind and why it is disabled, never a URL, token or secret', () => {
    const list = listChannels(routes(), [{ name: 'catch-all', url: `${base}/all?token=zzz`, secret: whsec }]);
    expect(list.map((c) => [c.name, c.role, c.enabled])).toEqual([
      ['catch-all', 'catch-all', true],
      ['yudu-county/dingtalk', 'primary', true],
      ['yudu-county/wecom', 'primary', false],
      ['yudu-county/webhook~fallback', 'fallback', true],
    ]);
    expect(list.find((c) => c.kind === 'wecom')!.disabledReason).toContain('YUDU_WECOM_KEY');
    const text = JSON.stringify(list);
    for (const leak of ['tok-secret-123', 'SECdingtalk-yudu', 'zzz', whsec, '127.0.0.1', 'http']) expect(text).not.toContain(leak);
  });

  it('sends the test message through a signed generic endpoint and a signed DingTalk robot', async () => {
    const s = sender();
    const a = await s.sendTest('catch-all', 'admin');
    expect(a).toMatchObject({ channel: 'catch-all', ok: true, status: 200 });
    expect(verifyStandardWebhook(whsec, got[0]!.headers, got[0]!.body)).toBe(true);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ type: 'test', message: TEST_MESSAGE, sentBy: 'admin' });
    const b = await s.sendTest('yudu-county/dingtalk', 'admin');
    expect(b.ok).toBe(true);
    const u = new URL(base + got[1]!.path);
    expect(u.searchParams.get('sign')).toBe(dingtalkSign('SECdingtalk-yudu', Number(u.searchParams.get('timestamp'))));
    expect(JSON.parse(got[1]!.body).markdown.text).toContain(TEST_MESSAGE);
  });

  it('reports a refusal, a disabled channel, an unknown one and a spent robot budget without throwing', async () => {
    status = 403;
    expect(await sender().sendTest('yudu-county/webhook~fallback', 'admin')).toMatchObject({ ok: false, status: 403, error: expect.stringContaining('HTTP 403') });
    expect(await sender().sendTest('yudu-county/wecom', 'admin')).toMatchObject({ ok: false, error: expect.stringContaining('YUDU_WECOM_KEY') });
    expect(await sender().sendTest('nowhere', 'admin')).toMatchObject({ ok: false, error: expect.stringContaining('未配置') });
    status = 200;
    const limiter = new SlidingWindowLimiter({ max: 1, windowMs: 60_000 });
    const s = sender(limiter);
    expect((await s.sendTest('yudu-county/dingtalk', 'admin')).ok).toBe(true);
    const second = await s.sendTest('yudu-county/dingtalk', 'admin');
    expect(second).toMatchObject({ ok: false, retryAt: expect.any(String) });
    expect(got.filter((g) => g.path.startsWith('/robot'))).toHaveLength(1);
  });
});
