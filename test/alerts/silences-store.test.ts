import { describe, it, expect } from 'vitest';
import { SilenceStore, parseUntil } from '../../src/alerts/silences-store.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

const T0 = new Date('2026-11-28T04:00:00.000Z');

function make() {
  let now = T0;
  const store = new SilenceStore(openDatabase(':memory:'), { now: () => now });
  return { store, at: (ms: number) => (now = new Date(T0.getTime() + ms)) };
}

const input = { category: '校园集中供餐', region: '360731', until: '4h', reason: '县局已在现场处置，避免重复推送' };

describe('silence store', () => {
  it('creates a silence from a duration, audited with who and when', () => {
    const { store } = make();
    const s = store.create(input, '张敏');
    expect(s).toMatchObject({ category: '校园集中供餐', region: '360731', until: '2026-11-28T08:00:00.000Z', createdBy: '张敏', state: 'active' });
    expect(s.audit).toEqual([expect.objectContaining({ action: 'create', actor: '张敏', at: T0.toISOString() })]);
    expect(store.active().map((x) => x.id)).toEqual([s.id]);
  });

  it('expires by itself at until: no longer active, and the expiry is audited once', () => {
    const { store, at } = make();
    const s = store.create(input, '张敏');
    at(4 * 3600_000 - 1);
    expect(store.active()).toHaveLength(1);
    at(4 * 3600_000);
    expect(store.active()).toEqual([]);
    store.active();
    const rec = store.get(s.id)!;
    expect(rec.state).toBe('expired');
    expect(rec.audit.map((a) => [a.action, a.actor, a.at])).toEqual([
      ['create', '张敏', T0.toISOString()],
      ['expire', 'sentinel', '2026-11-28T08:00:00.000Z'],
    ]);
  });

  it('removing a silence ends it now and keeps it, with who removed it', () => {
    const { store, at } = make();
    const s = store.create({ ...input, until: '2026-11-29T04:00:00+08:00' }, '张敏');
    at(600_000);
    const rec = store.remove(s.id, 'admin')!;
    expect(rec).toMatchObject({ state: 'deleted', deletedBy: 'admin', deletedAt: '2026-11-28T04:10:00.000Z' });
    expect(rec.audit.map((a) => a.action)).toEqual(['create', 'delete']);
    expect(store.active()).toEqual([]);
    expect(store.list().map((x) => x.id)).toEqual([s.id]);
    // a later expiry of a removed silence writes nothing more
    at(48 * 3600_000);
    expect(store.get(s.id)!.audit.map((a) => a.action)).toEqual(['create', 'delete']);
    expect(store.remove('sil-none', 'admin')).toBeNull();
  });

  it('lists for a county the silences inside its region and those covering it', () => {
    const { store } = make();
    store.create(input, '张敏');
    store.create({ ...input, region: '360700' }, '张敏');
    store.create({ ...input, region: '360102' }, '张敏');
    expect(store.list({ region: '360731' }).map((s) => s.region).sort()).toEqual(['360700', '360731']);
    expect(store.list().length).toBe(3);
  });

  it('refuses a silence in the past, longer than 30 days, without a reason, without a rule or category', () => {
    const { store } = make();
    expect(() => store.create({ ...input, until: '2026-11-28T03:00:00Z' }, '张敏')).toThrow(/until: must be in the future/);
    expect(() => store.create({ ...input, until: '31d' }, '张敏')).toThrow(/at most 30 days/);
    expect(() => store.create({ ...input, until: 'tomorrow' }, '张敏')).toThrow(/neither an ISO time/);
    expect(() => store.create({ ...input, reason: ' ' }, '张敏')).toThrow(/静默原因/);
    expect(() => store.create({ region: '360731', until: '4h', reason: '现场处置中' }, '张敏')).toThrow(/rule or a category/);
    expect(() => store.create({ ...input, region: '于都县' }, '张敏')).toThrow(/6-digit/);
    expect(store.list()).toEqual([]);
  });

  it('reads durations in minutes, hours and days', () => {
    expect(parseUntil('30m', T0).toISOString()).toBe('2026-11-28T04:30:00.000Z');
    expect(parseUntil('2d', T0).toISOString()).toBe('2026-11-30T04:00:00.000Z');
    expect(parseUntil('2026-11-28T18:00:00+08:00', T0).toISOString()).toBe('2026-11-28T10:00:00.000Z');
  });
});
