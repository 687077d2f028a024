import { describe, expect, it } from 'vitest';
import { isIncident } from '../../src/alerts/stage.ts';
import { MAX_ENTRY_FINGERPRINTS, MAX_ENTRY_MEMBERS } from '../../src/alerts/incidents.ts';
import type { RawItem, ScoredItem } from '../../src/core/types.ts';
import { stageHarness } from './stage-harness.ts';

/**
 * A batch stored but not committed before a kill -9 is delivered again to the process that
 * replaces the killed one (test/faults/kafka-kill.test.ts). Its reports were already merged into
 * their alerts; the merge index only remembers an alert's recent reports (MAX_ENTRY_MEMBERS,
 * MAX_ENTRY_FINGERPRINTS), so in a large incident a redelivered report may no longer resemble
 * anything the index holds of its own alert. It must still stay in that one alert.
 */

const now = new Date('2026-11-28T12:00:00Z');
const story =
  '11月27日中午，于都县贡江镇某中心小学食堂供应午餐后，陆续有32名学生出现呕吐、腹痛等症状，已被送往县人民医院救治，目前均无生命危险。县市场监管局已封存留样食品，对食堂进行停业整顿。';

/** The SimHash with its lowest `n` bits (counted cyclically over 64) flipped once each. */
function drifted(simhash: string, n: number): string {
  let h = BigInt(`0x${simhash}`);
  for (let i = 0; i < n; i++) h ^= 1n << BigInt(i % 64);
  return h.toString(16).padStart(16, '0');
}

describe('a batch redelivered after a restart', () => {
  const h = stageHarness({ prefix: 'sentinel-redelivery-', now });

  const report = (i: number, simhash?: string): ScoredItem => {
    const raw: RawItem = {
      id: `r${i}`, sourceId: `site-${i % 7}`, kind: 'news', title: '于都县一小学学生午餐后呕吐腹痛', body: `${story}（第${i}次转载）`,
      publishedAt: new Date(Date.parse('2026-11-28T08:00:00Z') + i * 1000).toISOString(), fetchedAt: '2026-11-28T09:00:00.000Z', fields: {},
    } as RawItem;
    const item = h.process(raw);
    return simhash ? { ...item, simhash } : item;
  };

  it('keeps a report its alert no longer resembles in that one live incident alert', async () => {
    const lead = report(0);
    const h0 = lead.simhash;
    // A repost of the lead, then a long run of reposts each one bit from the one before, drifting
    // away from the first two: each joins as a near duplicate of the last, and by the end the
    // alert's index entry holds only fingerprints more than 8 bits from h0, and not the repost.
    const repost = report(1, h0);
    const run = MAX_ENTRY_FINGERPRINTS + 10;
    expect(run).toBeGreaterThan(MAX_ENTRY_MEMBERS);
    const drift = Array.from({ length: run }, (_, k) => report(k + 2, drifted(h0, k + 1)));

    const killed = h.stage();
    await killed.init();
    await killed.handle([lead]);
    // Two partitions: the repost's batch is stored but its offset not committed when the process
    // is killed; the drift came on another partition, whose offsets were committed.
    await killed.handle([repost]);
    await killed.handle(drift);
    const before = (await h.store.searchAlerts({ limit: 50, offset: 0 })).items.filter(isIncident);
    expect(before, 'one incident before the kill').toHaveLength(1);
    expect(before[0]!.itemIds).toContain(repost.id);

    const restarted = h.stage();
    await restarted.init();
    await restarted.handle([repost]); // delivered again

    const incidents = (await h.store.searchAlerts({ limit: 50, offset: 0 })).items.filter(isIncident);
    const claimed = new Map<string, string[]>();
    for (const a of incidents) for (const id of a.itemIds) claimed.set(id, [...(claimed.get(id) ?? []), a.id]);
    expect([...claimed].filter(([, alerts]) => alerts.length > 1), 'reports in two live incident alerts').toEqual([]);
    expect(incidents.map((a) => a.id)).toEqual([before[0]!.id]);
    // The redelivery changed nothing.
    expect(incidents[0]!.history).toEqual(before[0]!.history);
    expect(incidents[0]!.itemIds).toEqual(before[0]!.itemIds);
  });
});
