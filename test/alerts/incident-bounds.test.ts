import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert, RawItem, ScoredItem } from '../../src/core/types.ts';
import { alertFor } from '../../src/alerts/raise.ts';
import { IncidentIndex, INCIDENT_WINDOW_MS, MAX_INDEXED_ALERTS, reportOf } from '../../src/alerts/incidents.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import process_ from 'node:process';
import type { Processor } from '../../src/pipeline/process.ts';
import { realProcessor } from './processor.ts';

/**
 * The merge index must stay flat in memory and in cost per report however many alerts a month
 * brings: a report only meets alerts within the incident window of it (indexed by day), and the
 * index holds at most MAX_INDEXED_ALERTS.
 */
let process: Processor;
beforeAll(async () => {
  process = await realProcessor();
});

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T08:00:00+08:00');

function report(i: number, at: number, body: string): ScoredItem {
  const raw: RawItem = {
    id: `r${i}`,
    sourceId: 'jx-news',
    kind: 'news',
    title: '',
    body,
    url: `https://news.example.cn/${i}`,
    publishedAt: new Date(at).toISOString(),
    fetchedAt: new Date(at).toISOString(),
    fields: {},
  } as RawItem;
  return process(raw);
}

const SCHOOL = '于都县贡江镇中心小学食堂供应午餐后，32名学生出现呕吐、腹痛症状，已送县人民医院救治，疑似食物中毒。';

describe('IncidentIndex bounds', () => {
  it('merges a near duplicate inside the window and not one a week later', () => {
    const index = new IncidentIndex();
    const first = report(1, T0, SCHOOL);
    const a = alertFor(first, '蓝', new Date(T0))!;
    expect(a).not.toBeNull();
    index.add(a, first);
    expect(index.candidates(report(2, T0 + 10 * HOUR, SCHOOL))[0]?.alertId).toBe(a.id);
    expect(index.candidates(report(3, T0 + INCIDENT_WINDOW_MS - HOUR, SCHOOL))[0]?.alertId).toBe(a.id);
    expect(index.candidates(report(4, T0 + 7 * 24 * HOUR, SCHOOL))).toEqual([]);
    // Before the alert's first report counts too: the relation is symmetric in time.
    expect(index.candidates(report(5, T0 - 20 * HOUR, SCHOOL))[0]?.alertId).toBe(a.id);
  });

  it('an alert whose reports span days is found from any day of its span', () => {
    const index = new IncidentIndex();
    const first = report(1, T0, SCHOOL);
    const a = alertFor(first, '蓝', new Date(T0))!;
    index.add(a, first);
    const later = report(2, T0 + 60 * HOUR, SCHOOL);
    index.add({ ...a, lastSeenAt: later.publishedAt } as Alert, later);
    expect(index.candidates(report(3, T0 + 120 * HOUR, SCHOOL))[0]?.alertId).toBe(a.id);
  });

  it(`holds at most ${MAX_INDEXED_ALERTS} alerts, dropping the oldest indexed, and still merges into recent ones`, () => {
    const index = new IncidentIndex();
    const base = report(0, T0, SCHOOL);
    const template = alertFor(base, '蓝', new Date(T0))!;
    let last: Alert = template;
    for (let i = 0; i < MAX_INDEXED_ALERTS + 500; i++) {
      last = { ...template, id: `a${i}`, firstSeenAt: new Date(T0 + i * 1000).toISOString(), lastSeenAt: new Date(T0 + i * 1000).toISOString() };
      index.add(last);
    }
    expect(index.size).toBe(MAX_INDEXED_ALERTS);
    index.add(last, report(1, T0 + (MAX_INDEXED_ALERTS + 499) * 1000, SCHOOL));
    const found = index.candidates(report(2, T0 + (MAX_INDEXED_ALERTS + 500) * 1000, SCHOOL));
    expect(found[0]?.alertId).toBe(last.id);
    expect(found.map((m) => m.alertId)).not.toContain('a0');
  });
});

describe('one large incident', () => {
  it('keeps its index entry bounded: recent members, fingerprints and exact hashes', async () => {
    const { MAX_ENTRY_MEMBERS, MAX_ENTRY_FINGERPRINTS, MAX_ENTRY_HASHES } = await import('../../src/alerts/incidents.ts');
    const index = new IncidentIndex();
    const first = report(0, T0, SCHOOL);
    const a = alertFor(first, '蓝', new Date(T0))!;
    index.add(a, first);
    // Reposts that differ in a figure and a sentence: each has its own text, many their own SimHash.
    const n = MAX_ENTRY_HASHES + 60;
    let last!: ScoredItem;
    for (let i = 1; i <= n; i++) {
      last = report(i, T0 + i * 1000, `${SCHOOL}记者第${i}次回访，截至目前共有${30 + (i % 97)}名学生就医，编号${i * 7919}。`);
      index.add(a, last);
    }
    const e = (index as unknown as { entries: Map<string, { members: { id: string }[]; fingerprints: unknown[]; hashes: string[] }> }).entries.get(a.id)!;
    expect(e.members).toHaveLength(MAX_ENTRY_MEMBERS);
    expect(e.members.at(-1)!.id).toBe(last.id);
    expect(e.fingerprints.length).toBeLessThanOrEqual(MAX_ENTRY_FINGERPRINTS);
    // Exact hashes leave with their members.
    expect(e.hashes.length).toBe(MAX_ENTRY_MEMBERS);
    expect(e.hashes.length).toBeLessThanOrEqual(MAX_ENTRY_HASHES);
    // The newest reports still bring their duplicates to the alert.
    expect(index.candidates({ ...last, id: 'again' })[0]).toMatchObject({ alertId: a.id, reason: 'exact' });
  });
});

describe('the whole merge index', () => {
  it('remembers at most MAX_INDEXED_MEMBERS reports over all its alerts, dropping those that joined first', async () => {
    const { MAX_INDEXED_MEMBERS } = await import('../../src/alerts/incidents.ts');
    const index = new IncidentIndex();
    const base = report(0, T0, SCHOOL);
    const a0 = alertFor(base, '蓝', new Date(T0))!;
    const n = MAX_INDEXED_MEMBERS + 500;
    for (let i = 0; i < n; i++) {
      const at = T0 + i * 1000;
      const item = { ...base, id: `m${i}`, text: `${base.text}（第${i}次转载）`, publishedAt: new Date(at).toISOString() };
      // Ten reports an alert: 2,050 alerts, well under MAX_INDEXED_ALERTS.
      index.add({ ...a0, id: `alert-${Math.floor(i / 10)}`, lastSeenAt: item.publishedAt }, item);
    }
    const inside = index as unknown as { entries: Map<string, { members: { id: string }[]; hashes: string[] }>; byHash: Map<string, string>; totalMembers: number };
    let members = 0;
    let hashes = 0;
    for (const e of inside.entries.values()) {
      members += e.members.length;
      hashes += e.hashes.length;
    }
    expect(members).toBe(MAX_INDEXED_MEMBERS);
    expect(inside.totalMembers).toBe(MAX_INDEXED_MEMBERS);
    expect(hashes).toBe(MAX_INDEXED_MEMBERS);
    expect(inside.byHash.size).toBe(MAX_INDEXED_MEMBERS);
    // The first reports went, the last are still there.
    expect(inside.entries.get('alert-0')!.members).toEqual([]);
    expect(inside.entries.get(`alert-${Math.floor((n - 1) / 10)}`)!.members.at(-1)!.id).toBe(`m${n - 1}`);
  });
});

describe('IncidentIndex memory', () => {
  /** A full collection, for measuring what stays reachable (vitest runs tests in child processes). */
  function collect(): void {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  }

  it('lets the reports of an alert that leaves the index go at once, not when its queue is next compacted', () => {
    const index = new IncidentIndex();
    const base = reportOf(report(1, T0, SCHOOL));
    collect();
    const before = process_.memoryUsage().heapUsed;
    // 1,000 alerts of 10 reports each: half the members' budget, so no report is dropped for it.
    for (let a = 0; a < 1_000; a++) {
      const alert = { ...alertFor(report(2, T0, SCHOOL), '蓝', new Date(T0))!, id: `a${a}` };
      for (let m = 0; m < 10; m++) {
        // each report with words of its own, about 4 KB, so what it holds shows in the heap
        const words = Array.from({ length: 4 }, (_, w) => `${a}-${m}-${w}-`.padEnd(500, '词'));
        index.add(alert, { ...base, id: `r${a}-${m}`, hash: `${base.hash}${a}-${m}`, terms: [...base.terms, ...words] });
      }
    }
    collect();
    const held = process_.memoryUsage().heapUsed - before;
    expect(held).toBeGreaterThan(20 * 1_048_576);
    for (let a = 0; a < 1_000; a++) index.remove(`a${a}`);
    collect();
    const left = process_.memoryUsage().heapUsed - before;
    expect(index.size).toBe(0);
    expect(left, `${Math.round(left / 1_048_576)} MB still held of ${Math.round(held / 1_048_576)} MB`).toBeLessThan(held / 10);
  });
});
