import { describe, it, expect, beforeAll } from 'vitest';
import type { Alert, ScoredItem } from '../../src/core/types.ts';
import { alertFor } from '../../src/alerts/raise.ts';
import { mergeDetection } from '../../src/store/shared.ts';
import {
  IncidentIndex,
  type IncidentMatch,
  reportOf,
  corroboratedLevel,
  normalisedContentHash,
  nearDuplicateBound,
  regionsOverlap,
  CORROBORATE_ACTION,
  INCIDENT_WINDOW_MS,
  NEAR_DUP_HAMMING,
  NEAR_DUP_HAMMING_SHORT,
} from '../../src/alerts/incidents.ts';
import { hamming } from '../../src/text/simhash.ts';
import type { Processor } from '../../src/pipeline/process.ts';
import { realProcessor } from './processor.ts';
import { incidentStream, type StreamItem } from './stream.ts';

let process: Processor;
beforeAll(async () => {
  process = await realProcessor();
});

/** What the runner does with each scored item: merge into the matched alert, or raise a new one. */
function run(stream: StreamItem[], opts: { fold?: boolean; reports?: boolean } = {}) {
  const index = new IncidentIndex();
  const alerts = new Map<string, Alert>();
  const alertOf = new Map<string, string>();
  const dropped: string[] = [];
  const matches: IncidentMatch[][] = [];
  for (const { raw } of stream) {
    const item = process(raw);
    const seen = opts.reports ? reportOf(item) : item;
    const found = index.candidates(seen);
    matches.push(found);
    const matched = found[0]?.alertId ?? null;
    if (opts.fold) {
      // The item bridges alerts raised apart: fold the others into the best match.
      for (const other of found.slice(1)) {
        const from = alerts.get(other.alertId)!;
        alerts.set(matched!, mergeDetection(alerts.get(matched!)!, { ...from, id: matched!, category: alerts.get(matched!)!.category }));
        alerts.delete(other.alertId);
        for (const [k, v] of alertOf) if (v === other.alertId) alertOf.set(k, matched!);
        index.absorb(matched!, other.alertId);
      }
    }
    const own = alertFor(item, '蓝', new Date(item.publishedAt));
    let alert: Alert;
    if (matched) {
      const existing = alerts.get(matched)!;
      const incoming = own ?? { ...existing, itemIds: [item.id], sources: [item.sourceId], kinds: [item.kind] };
      alert = mergeDetection(existing, { ...incoming, id: matched, category: existing.category });
    } else if (own) {
      alert = own;
    } else {
      dropped.push(item.id);
      continue;
    }
    alerts.set(alert.id, alert);
    alertOf.set(raw.id, alert.id);
    index.add(alert, seen);
  }
  return { alerts, alertOf, dropped, matches };
}

function pairCounts(stream: StreamItem[], alertOf: Map<string, string>) {
  let together = 0;
  let correctTogether = 0;
  let truePairs = 0;
  for (let i = 0; i < stream.length; i++) {
    for (let j = i + 1; j < stream.length; j++) {
      const a = stream[i]!;
      const b = stream[j]!;
      const same = a.truth === b.truth;
      const merged = alertOf.get(a.raw.id) === alertOf.get(b.raw.id);
      if (same) truePairs++;
      if (merged) together++;
      if (merged && same) correctTogether++;
    }
  }
  return { precision: correctTogether / together, recall: correctTogether / truePairs };
}

describe('IncidentIndex on a generated stream with known truth', () => {
  it('finds and keeps the same from each item\'s report as from the item itself, folding or not', () => {
    // The stage hands the index one report per item, and a restart rebuilds it from reports only.
    const stream = incidentStream();
    for (const fold of [false, true]) {
      const fromItems = run(stream, { fold });
      const fromReports = run(stream, { fold, reports: true });
      expect(fromReports.matches).toEqual(fromItems.matches);
      expect(fromReports.matches.some((m) => m.some((x) => x.reason === 'incident')) && fromReports.matches.some((m) => m.some((x) => x.reason === 'near'))).toBe(true);
      expect([...fromReports.alertOf]).toEqual([...fromItems.alertOf]);
      expect([...fromReports.alerts.values()]).toEqual([...fromItems.alerts.values()]);
    }
  });

  it('5 incidents × (1 news + 3 reposts + 2 complaints) and 20 unrelated items become exactly 25 alerts', () => {
    const stream = incidentStream();
    expect(stream).toHaveLength(50);
    const { alerts, alertOf, dropped } = run(stream);
    expect(dropped).toEqual([]);
    expect(alerts.size).toBe(25);
    const { precision, recall } = pairCounts(stream, alertOf);
    // Merging precision over item pairs: every pair put in one alert reports one event.
    expect(precision).toBe(1);
    expect(recall).toBe(1);
    for (const truth of new Set(stream.map((s) => s.truth))) {
      const ids = new Set(stream.filter((s) => s.truth === truth).map((s) => alertOf.get(s.raw.id)));
      expect(ids.size, truth).toBe(1);
    }
    // Each incident alert lists all six items, from five sources, news and complaints alike.
    const incidentAlerts = [...alerts.values()].filter((a) => a.itemIds.length > 1);
    expect(incidentAlerts).toHaveLength(5);
    for (const a of incidentAlerts) {
      expect(a.itemIds).toHaveLength(6);
      expect(a.sources).toHaveLength(5);
      expect(new Set(a.kinds)).toEqual(new Set(['news', 'complaint']));
    }
  });

  it('in reverse order it never merges wrongly; the one bridge item is folded with candidates + absorb', () => {
    const stream = incidentStream().reverse();
    // Reversed, the 卤味 shop's food-poisoning complaint arrives first and shares neither text nor
    // category with the workshop reports; the other complaint names the same shop AND shares the
    // workshop terms, so it bridges the two alerts.
    const plain = run(stream);
    expect(plain.alerts.size).toBe(26);
    expect(pairCounts(stream, plain.alertOf).precision).toBe(1);
    const folded = run(stream, { fold: true });
    expect(folded.alerts.size).toBe(25);
    expect(pairCounts(stream, folded.alertOf)).toEqual({ precision: 1, recall: 1 });
  });

  it('rebuilt from stored alerts and items (load), it matches the next report to the same alert', () => {
    const stream = incidentStream();
    const first = stream.filter((s) => s.raw.sourceId !== 'hotline-12315');
    const { alerts } = run(first);
    const items = first.map((s) => process(s.raw));
    const rebuilt = new IncidentIndex();
    rebuilt.load([...alerts.values()], items);
    const fresh = run(first).alertOf;
    const complaint = stream.find((s) => s.truth === 'donghu-restaurant' && s.raw.kind === 'complaint')!;
    const newsId = stream.find((s) => s.truth === 'donghu-restaurant' && s.raw.sourceId === 'jx-news')!.raw.id;
    expect(rebuilt.match(process(complaint.raw))).toBe(fresh.get(newsId));
  });
});

describe('near-duplicate bound, measured on the stream', () => {
  it('tagged and source-line reposts sit within 8 bits of their news item; different stories stay above 16', () => {
    const items = incidentStream().map((s) => ({ ...s, item: process(s.raw) }));
    const news = new Map(items.filter((s) => s.raw.sourceId === 'jx-news' && !s.truth.startsWith('unrelated')).map((s) => [s.truth, s.item]));
    const light = items.filter((s) => s.raw.sourceId === 'weibo' || s.raw.sourceId === 'wechat');
    expect(light).toHaveLength(10);
    const repostDistances = light.map((s) => hamming(s.item.simhash, news.get(s.truth)!.simhash));
    expect(Math.max(...repostDistances)).toBeLessThanOrEqual(NEAR_DUP_HAMMING_SHORT);
    let closestOther = 64;
    for (const a of items) for (const b of items) if (a.truth < b.truth) closestOther = Math.min(closestOther, hamming(a.item.simhash, b.item.simhash));
    expect(closestOther).toBeGreaterThan(16);
  });
});

describe('IncidentIndex rules', () => {
  const stream = incidentStream();
  const news = () => process(stream.find((s) => s.truth === 'yudu-school' && s.raw.sourceId === 'jx-news')!.raw);

  function seeded(item: ScoredItem) {
    const index = new IncidentIndex();
    const alert = alertFor(item, '蓝')!;
    index.add(alert, item);
    return { index, alert };
  }

  it('an exact duplicate (only spacing and punctuation changed) matches by content hash', () => {
    const n = news();
    const { index, alert } = seeded(n);
    const copy = process({ ...stream[0]!.raw, id: 'copy', sourceId: 'other', title: n.title + ' ！', body: n.body.replace(/，/g, ', ') });
    expect(normalisedContentHash(copy.text)).toBe(normalisedContentHash(n.text));
    expect(index.explain(copy)).toMatchObject({ alertId: alert.id, reason: 'exact' });
  });

  it('a tagged repost with a rewritten figure matches as a near duplicate', () => {
    const n = news();
    const { index, alert } = seeded(n);
    const repost = process({ ...stream[0]!.raw, id: 'r', sourceId: 'weibo', title: '【转】' + n.title, body: n.body.replace('32名', '30余名') });
    const m = index.explain(repost)!;
    expect(m).toMatchObject({ alertId: alert.id, reason: 'near' });
    expect(hamming(repost.simhash, n.simhash)).toBeLessThanOrEqual(NEAR_DUP_HAMMING_SHORT);
  });

  it('a report of another event in the same county and category is not merged', () => {
    const n = news();
    const { index } = seeded(n);
    const kindergarten = process(stream.find((s) => s.truth === 'unrelated-1')!.raw);
    expect(kindergarten.regions).toEqual(n.regions);
    expect(kindergarten.category).toBe(n.category);
    expect(index.match(kindergarten)).toBeNull();
  });

  it('the same event in another county is not merged', () => {
    const n = news();
    const { index } = seeded(n);
    const elsewhere = process({
      ...stream[0]!.raw,
      id: 'x',
      title: '兴国县一小学学生午餐后呕吐腹痛',
      body: '兴国县某小学食堂供应午餐后，多名学生出现呕吐、腹痛等症状，食堂已停业整顿，留样食品已封存。',
    });
    expect(elsewhere.regions).toEqual(['360732']);
    expect(index.match(elsewhere)).toBeNull();
  });

  it('a complaint naming a business already in the incident merges on the business alone', () => {
    const c1 = process(stream.find((s) => s.truth === 'xunyang-formula' && s.raw.kind === 'complaint')!.raw);
    const { index, alert } = seeded(c1);
    const c2 = process({
      ...stream[0]!.raw,
      id: 'c2',
      kind: 'complaint',
      sourceId: 'hotline-12345',
      title: '超市卖过期奶粉',
      body: '在浔阳区这家超市买的婴幼儿配方奶粉过期了，孩子喝了腹泻。',
      regionHint: '360403',
      fields: { 被投诉主体: '九江市浔阳区佳和超市有限公司' },
    });
    expect(index.explain(c2)).toMatchObject({ alertId: alert.id, reason: 'incident' });
  });

  it('reports further apart than the window are separate incidents, and evict forgets old alerts', () => {
    const n = news();
    const { index } = seeded(n);
    const later = new Date(Date.parse(n.publishedAt) + INCIDENT_WINDOW_MS + 3600_000).toISOString();
    const copy = { ...n, id: 'later', publishedAt: later };
    expect(index.match(copy)).toBeNull();
    expect(index.size).toBe(1);
    index.evict(Date.parse(later));
    expect(index.size).toBe(0);
    expect(index.match({ ...n, id: 'again' })).toBeNull();
  });

  it('near-duplicate bound is 3 for long items and the documented looser 8 for short ones', () => {
    expect(nearDuplicateBound(200, 150)).toBe(NEAR_DUP_HAMMING);
    expect(nearDuplicateBound(200, 60)).toBe(NEAR_DUP_HAMMING_SHORT);
  });

  it('regions overlap at county level or county-in-city, never on a province alone', () => {
    expect(regionsOverlap(['360731'], ['360731'])).toBe(true);
    expect(regionsOverlap(['360731'], ['360700'])).toBe(true);
    expect(regionsOverlap(['360700'], ['360731', '360000'])).toBe(true);
    expect(regionsOverlap(['360731'], ['360732'])).toBe(false);
    expect(regionsOverlap(['360731'], ['360000'])).toBe(false);
    expect(regionsOverlap(['360731'], ['360100'])).toBe(false);
    expect(regionsOverlap([], ['360731'])).toBe(false);
  });
});

describe('corroboratedLevel', () => {
  const base: Pick<Alert, 'level' | 'kinds' | 'sources' | 'itemIds' | 'history'> = {
    level: '黄',
    kinds: ['news'],
    sources: ['jx-news'],
    itemIds: ['i1'],
    history: [{ at: '2026-11-27T04:00:00.000Z', action: 'raise', actor: 'sentinel' }],
  };

  it('a single report is not corroborated', () => {
    expect(corroboratedLevel(base)).toEqual({ level: '黄', reason: null });
  });

  it('a complaint plus a news report raises one step, with a Chinese reason', () => {
    const r = corroboratedLevel({ ...base, kinds: ['news', 'complaint'], itemIds: ['i1', 'i2'], sources: ['jx-news', 'hotline'] });
    expect(r.level).toBe('橙');
    expect(r.reason).toContain('新闻报道与投诉举报');
    expect(r.reason).toContain('黄色升为橙色');
  });

  it('a repost wave (5 items from 3 sources) raises one step; 4 items or 2 sources do not', () => {
    const wave = { ...base, level: '蓝' as const, itemIds: ['1', '2', '3', '4', '5'], sources: ['a', 'b', 'c'] };
    expect(corroboratedLevel(wave).level).toBe('黄');
    expect(corroboratedLevel({ ...wave, itemIds: ['1', '2', '3', '4'] }).level).toBe('蓝');
    expect(corroboratedLevel({ ...wave, sources: ['a', 'b'] }).level).toBe('蓝');
  });

  it('both signals together still give one step, 红 stays 红, and it applies once per alert', () => {
    const both = { ...base, level: '橙' as const, kinds: ['news', 'complaint'] as Alert['kinds'], itemIds: ['1', '2', '3', '4', '5'], sources: ['a', 'b', 'c'] };
    expect(corroboratedLevel(both).level).toBe('红');
    expect(corroboratedLevel({ ...both, level: '红' })).toEqual({ level: '红', reason: null });
    const done = { ...both, history: [...both.history, { at: '2026-11-27T05:00:00.000Z', action: CORROBORATE_ACTION, actor: 'sentinel' }] };
    expect(corroboratedLevel(done)).toEqual({ level: '橙', reason: null });
  });

  it('takes explicit stats when the caller counts differently from the alert', () => {
    expect(corroboratedLevel(base, { kinds: ['notice', 'news'], sources: 2, items: 2 }).reason).toContain('监管公告与新闻报道');
  });
});

describe('an alert with very many reports', () => {
  it('keeps its first and most recent report ids, counts them all, and a replay changes nothing', async () => {
    const { MAX_ALERT_ITEM_IDS, itemCountOf } = await import('../../src/store/shared.ts');
    const { alert: makeAlert } = await import('./fixtures.ts');
    let a = makeAlert({ id: 'big', itemIds: ['r0'] });
    const n = MAX_ALERT_ITEM_IDS + 100;
    for (let i = 1; i < n; i++) a = mergeDetection(a, makeAlert({ id: 'big', itemIds: [`r${i}`] }));
    expect(a.itemIds).toHaveLength(MAX_ALERT_ITEM_IDS);
    expect(itemCountOf(a)).toBe(n);
    expect(a.itemIds.slice(0, 3)).toEqual(['r0', 'r1', 'r2']);
    expect(a.itemIds.at(-1)).toBe(`r${n - 1}`);
    // A redelivered recent report is already listed.
    expect(mergeDetection(a, makeAlert({ id: 'big', itemIds: [`r${n - 5}`] }))).toEqual(a);
    // The store merges a newer version of the same alert into the stored one: nothing is counted twice.
    const newer = mergeDetection(a, makeAlert({ id: 'big', itemIds: [`r${n}`] }));
    expect(itemCountOf(mergeDetection(a, newer))).toBe(n + 1);
    expect(itemCountOf(mergeDetection(newer, newer))).toBe(n + 1);
    // Small alerts are written as before: no count beside the list.
    const small = mergeDetection(makeAlert({ id: 's', itemIds: ['x'] }), makeAlert({ id: 's', itemIds: ['y', 'x'] }));
    expect(small.itemIds).toEqual(['x', 'y']);
    expect(small).not.toHaveProperty('itemCount');
  });
});
