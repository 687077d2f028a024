import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSender } from '../../src/notify/sender.ts';
import { OutboxQueue } from '../../src/notify/outbox.ts';
import { dingtalkSign } from '../../src/notify/formats/dingtalk.ts';
import { parseRoutes } from '../../src/config/routes.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { alert } from '../conformance/store.suite.ts';
import { tempDir, eventually } from '../helpers/tmp.ts';

const T0 = Date.parse('2026-11-28T04:00:00.000Z');
const SECRET = 'SECyudu-robot-secret';

/** A DingTalk robot on 127.0.0.1 that checks 加签 and records each message with the (pinned) time it arrived. */
function robot(clock: () => number) {
  const got: { at: number; text: string }[] = [];
  let badSignatures = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const ts = Number(u.searchParams.get('timestamp'));
      res.setHeader('content-type', 'application/json');
      if (u.searchParams.get('access_token') !== 'tok-yudu' || u.searchParams.get('sign') !== dingtalkSign(SECRET, ts)) {
        badSignatures++;
        res.end('{"errcode":310000,"errmsg":"sign not match"}');
        return;
      }
      got.push({ at: clock(), text: (JSON.parse(body) as { markdown: { text: string } }).markdown.text });
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  return { server, got, bad: () => badSignatures };
}

describe('robot rate limit: never drop, digest instead', () => {
  let clock = T0;
  let t: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let queue: OutboxQueue;
  let r: ReturnType<typeof robot>;
  let base = '';

  beforeEach(async () => {
    clock = T0;
    t = tempDir();
    const db = openDatabase(join(t.dir, 's.db'));
    store = new SqliteStore(db, { tokenize: (x) => x.split(''), ownsDb: false });
    queue = new OutboxQueue(db, { now: () => clock });
    r = robot(() => clock);
    await new Promise<void>((ok) => r.server.listen(0, '127.0.0.1', () => ok()));
    base = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await queue.close();
    await new Promise<void>((ok) => r.server.close(() => ok()));
    t.cleanup();
  });

  it('30 alerts in a burst to one DingTalk robot: at most 20 messages in the first minute, the rest in one digest, every alert in some message', async () => {
    const routes = parseRoutes(
      `
offices:
  - id: yudu-county
    name: 于都县市场监督管理局
    region: '360731'
    channels:
      - dingtalk: { url: '${base}/robot/send?access_token=\${YUDU_TOKEN}', secretEnv: YUDU_SECRET }
`,
      'routes.yaml',
      { YUDU_TOKEN: 'tok-yudu', YUDU_SECRET: SECRET },
    );
    const titles = Array.from({ length: 30 }, (_, i) => `于都县第${i + 1}号餐馆使用过期食材被查`);
    await store.upsertAlerts(titles.map((title, i) => alert({ id: `a${String(i + 1).padStart(2, '0')}`, title, level: '黄', region: '360731', regions: ['360731'] })));
    const sender = createSender({ store, routes, catchAll: [], deskUrl: 'http://desk.local', now: () => clock });
    const w = queue.work(sender, { pollMs: 10, digest: sender.digest });
    await queue.enqueue(titles.map((_, i) => {
      const id = `a${String(i + 1).padStart(2, '0')}`;
      return { id: `${id}.yudu-county/dingtalk.raised`, alertId: id, channel: 'yudu-county/dingtalk', payload: { event: 'raised', alertId: id } };
    }));
    await eventually(async () => (await queue.deliveriesFor('a30'))[0]?.deferred === true);
    await w.drained();
    // the first minute: the robot's budget and not one message more
    expect(r.got.length).toBe(20);
    const waiting = (await Promise.all(titles.map((_, i) => queue.deliveriesFor(`a${String(i + 1).padStart(2, '0')}`)))).flat();
    expect(waiting.filter((s) => s.status === 'pending' && s.deferred)).toHaveLength(10);
    expect(waiting.every((s) => s.attempts <= 1)).toBe(true);

    // a slot frees a minute after the first send: the ten waiting alerts go out as ONE message
    clock = T0 + 60_000;
    await eventually(async () => (await queue.deliveriesFor('a30'))[0]?.status === 'delivered');
    await w.drained();
    await w.stop();
    expect(r.got.length).toBe(21);
    expect(r.bad()).toBe(0);
    expect(r.got.filter((m) => m.at < T0 + 60_000).length).toBeLessThanOrEqual(20);
    const digest = r.got[20]!.text;
    expect(digest).toContain('预警汇总（10条');
    for (const title of titles) expect(r.got.some((m) => m.text.includes(title))).toBe(true);

    const states = (await Promise.all(titles.map((_, i) => queue.deliveriesFor(`a${String(i + 1).padStart(2, '0')}`)))).flat();
    expect(states.every((s) => s.status === 'delivered')).toBe(true);
    const inDigest = states.filter((s) => s.digestId);
    expect(inDigest).toHaveLength(10);
    expect(new Set(inDigest.map((s) => s.digestId)).size).toBe(1);
    expect(inDigest[0]!.digestId).toMatch(/^digest\.yudu-county\/dingtalk\./);
    // the digest lists exactly the deliveries that waited
    for (const s of inDigest) expect(digest).toContain(titles[Number(s.alertId.slice(1)) - 1]!);
  });
});
