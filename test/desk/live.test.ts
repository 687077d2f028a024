import { afterEach, describe, expect, it } from 'vitest';
import { LiveFeed, type LiveEvent } from '../../src/desk/live.ts';
import { startDesk } from '../../src/desk/server.ts';
import { MemoryStore } from './memory-store.ts';
import { ALERTS, canteenAlert, takeoutAlert } from './fixtures.ts';
import { PASSWORDS, cookieFrom, seedAccounts } from './auth-helpers.ts';
import { eventually } from '../helpers/tmp.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('LiveFeed', () => {
  it('takes a silent baseline, then emits new and changed alerts', async () => {
    const store = new MemoryStore();
    await store.upsertAlerts(ALERTS);
    const feed = new LiveFeed(store, { intervalMs: 20 });
    cleanups.push(() => feed.stop());
    const got: LiveEvent[] = [];
    const off = await feed.subscribe((e) => got.push(e));
    await new Promise((r) => setTimeout(r, 60));
    expect(got).toEqual([]);
    await store.upsertAlerts([{ ...canteenAlert, id: 'a-new', lastSeenAt: '2026-11-30T00:00:00.000Z' }]);
    await eventually(() => got.length === 1);
    expect(got[0]).toMatchObject({ type: 'new', alert: { id: 'a-new' } });
    await store.transition('a-canteen', { action: 'acknowledge', actor: '张敏' });
    await eventually(() => got.length === 2);
    expect(got[1]).toMatchObject({ type: 'changed', alert: { id: 'a-canteen', status: 'acknowledged' } });
    off();
    expect(feed.listening).toBe(0);
  });

  it('pushes a change made through the desk at once, and only once', async () => {
    const store = new MemoryStore();
    await store.upsertAlerts(ALERTS);
    const feed = new LiveFeed(store, { intervalMs: 20 });
    cleanups.push(() => feed.stop());
    const got: LiveEvent[] = [];
    await feed.subscribe((e) => got.push(e));
    const next = await store.transition('a-takeout', { action: 'note', note: '已电话核实', actor: '张敏' });
    feed.publish(next);
    expect(got).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(got).toHaveLength(1); // the next poll sees the same version and stays quiet
  });
});

/** Reads server-sent events from a fetch body until `until` is satisfied. */
async function sse(url: string, cookie: string) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { cookie, accept: 'text/event-stream' }, signal: ctrl.signal });
  const events: { event: string; data: unknown }[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (ev) events.push({ event: ev, data: data ? JSON.parse(data) : null });
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return { res, events, close: async () => (ctrl.abort(), await pump) };
}

describe('GET /api/v1/stream', () => {
  it('pushes a new alert to the officer and only in-region alerts to a county user', async () => {
    const store = new MemoryStore();
    await store.upsertAlerts(ALERTS);
    const accounts = await seedAccounts();
    const desk = await startDesk({ store, accounts, health: async () => ({}) }, { port: 0, liveIntervalMs: 30 });
    cleanups.push(() => desk.close());
    const loginAs = async (name: string, password: string) => {
      const r = await fetch(`${desk.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
      return cookieFrom(r.headers.getSetCookie());
    };
    const officer = await sse(`${desk.url}/api/v1/stream`, await loginAs('张敏', PASSWORDS.officer));
    const county = await sse(`${desk.url}/api/v1/stream`, await loginAs('东湖区局', PASSWORDS.county));
    cleanups.push(officer.close, county.close);
    expect(officer.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(officer.res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    await eventually(() => officer.events.some((e) => e.event === 'ready') && county.events.some((e) => e.event === 'ready'));

    await store.upsertAlerts([
      { ...takeoutAlert, id: 'a-qingshanhu', lastSeenAt: '2026-11-30T01:00:00.000Z', version: 0, status: 'new', history: [] },
      { ...canteenAlert, id: 'a-donghu-2', level: '橙', lastSeenAt: '2026-11-30T01:00:00.000Z' },
    ]);
    const pushed = (s: typeof officer) => s.events.filter((e) => e.event === 'alert').map((e) => (e.data as { alert: { id: string } }).alert.id).sort();
    await eventually(() => pushed(officer).length === 2);
    expect(pushed(officer)).toEqual(['a-donghu-2', 'a-qingshanhu']);
    await eventually(() => pushed(county).length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(pushed(county)).toEqual(['a-donghu-2']);
    const ev = county.events.find((e) => e.event === 'alert')!.data as { type: string; alert: { regionName: string } };
    expect(ev).toMatchObject({ type: 'new', alert: { regionName: '江西省南昌市东湖区' } });
  });

  it('needs a login', async () => {
    const store = new MemoryStore();
    const desk = await startDesk({ store, accounts: await seedAccounts(), health: async () => ({}) }, { port: 0 });
    cleanups.push(() => desk.close());
    expect((await fetch(`${desk.url}/api/v1/stream`)).status).toBe(401);
  });
});
