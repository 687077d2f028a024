import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSender } from '../../src/notify/sender.ts';
import { PermanentDeliveryError } from '../../src/notify/queue.ts';
import { verifyStandardWebhook } from '../../src/notify/formats/generic.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { alert } from '../conformance/store.suite.ts';
import { tempDir } from '../helpers/tmp.ts';

const secret = 'whsec_' + Buffer.from('catch-all-secret-0123456789abcd').toString('base64');

describe('delivery sender', () => {
  let server: Server;
  let status = 200;
  let reply = '{}';
  const got: { headers: Record<string, unknown>; body: string }[] = [];
  let url = '';
  const t = tempDir();
  const store = new SqliteStore(openDatabase(join(t.dir, 's.db')), { tokenize: (x) => [x] });

  beforeEach(async () => {
    got.length = 0;
    status = 200;
    reply = '{}';
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.statusCode = status;
        res.end(reply);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await store.upsertAlerts([alert({ id: 'a1', title: '某幼儿园午餐后多名幼儿呕吐' })]);
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const send = (channel = 'catch-all') =>
    createSender({ store, routes: null, catchAll: [{ name: 'catch-all', url, secret }], deskUrl: 'http://desk' })(
      { id: 'a1.catch-all.raised', alertId: 'a1', channel, payload: { event: 'raised', alertId: 'a1' } },
      1,
    );

  it('renders the alert as it is now, signed per Standard Webhooks with the delivery id', async () => {
    await send();
    expect(got).toHaveLength(1);
    const body = JSON.parse(got[0]!.body);
    expect(body).toMatchObject({ type: 'alert.raised', alert: { id: 'a1', title: '某幼儿园午餐后多名幼儿呕吐', url: 'http://desk/#/alerts/a1' } });
    expect(got[0]!.headers['webhook-id']).toBe('a1.catch-all.raised');
    expect(verifyStandardWebhook(secret, got[0]!.headers as Record<string, string>, got[0]!.body)).toBe(true);
  });

  it('a 4xx is permanent, a 5xx or 429 is retried', async () => {
    status = 400;
    await expect(send()).rejects.toBeInstanceOf(PermanentDeliveryError);
    for (const s of [503, 429]) {
      status = s;
      const err = await send().catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(PermanentDeliveryError);
      expect(err.message).toContain(`HTTP ${s}`);
    }
  });

  it('an unknown channel is a dead letter with its name', async () => {
    await expect(send('gone')).rejects.toThrow(/channel 'gone' is not configured/);
  });
});
