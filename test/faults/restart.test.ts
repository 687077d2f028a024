import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { startPipeline, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { DEFAULT_PIPELINE } from '../../src/cli/common.ts';
import { itemId } from '../../src/core/ids.ts';
import type { RawItem } from '../../src/core/types.ts';
import { tempDir } from '../helpers/tmp.ts';
import { hotlineRows, isIncident, undisturbed } from './helpers.ts';

/**
 * What a restart (after a crash or a plain deploy) must not change: the alerts the same reports
 * raise. Found by the kill -9 rounds in kill.test.ts, reduced here to four complaints.
 */

const log = pino({ level: 'silent' });
const SOURCE = 'hotline-12315';

function complaint(no: string, business: string, body: string, hoursAgo: number): RawItem {
  const at = new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
  return {
    id: itemId(SOURCE, no),
    sourceId: SOURCE,
    kind: 'complaint',
    title: `举报：${business}`,
    body,
    publishedAt: at,
    fetchedAt: at,
    regionHint: '360403',
    fields: { 登记编号: no, 诉求类型: '举报', 被投诉主体: business, 所属区域: '360403' },
  };
}

// three complaints about one supermarket: the "one enterprise, one file" alert (biz:…)
const SUPERMARKET = [
  complaint('3604032026000100001', '浔阳区好又多超市', '浔阳区好又多超市卖的面包里面有霉点，吃了一口才发现，恶心呕吐了2次，要求查处。', 9),
  complaint('3604032026000100002', '浔阳区好又多超市', '在浔阳区好又多超市买的酸奶已经过期3天，孩子喝了以后肚子疼、腹泻，商家拒绝退款。', 8),
  complaint('3604032026000100003', '浔阳区好又多超市', '在浔阳区好又多超市买的熟食，全家3人吃了以后上吐下泻，怀疑食物中毒，去医院挂了水。', 7),
];
// the first complaint filed again (a 12345 转办 of the same report, new number, same text)
const REFILED = complaint('3604032026000100004', '浔阳区好又多超市', SUPERMARKET[0]!.body, 1);

async function run(restartBeforeRefile: boolean) {
  const t = tempDir('sentinel-faults-restart-');
  const start = () => startPipeline({ pipelineFile: DEFAULT_PIPELINE, roles: ['process', 'alerts'], dataDir: t.dir, log });
  let running: RunningPipeline = await start();
  try {
    await running.ingest(SUPERMARKET);
    await running.drained();
    if (restartBeforeRefile) {
      await running.stop();
      running = await start();
    }
    await running.ingest([REFILED]);
    await running.drained();
    const { items: alerts } = await running.store.searchAlerts({ limit: 500, offset: 0 });
    const biz = alerts.find((a) => a.id.startsWith('biz:'));
    const stored = await running.store.getAlert(`biz:好又多超市@360403`);
    return {
      bizFoldedInto: stored?.mergedInto ?? null,
      biz,
      bizMerges: (biz?.history ?? []).filter((h) => h.action === 'merge').map((h) => h.note),
      incident: alerts.filter(isIncident).find((a) => a.itemIds.includes(REFILED.id)),
    };
  } finally {
    await running.stop();
    t.cleanup();
  }
}

describe('alerts after a restart', () => {
  it('without a restart, a re-filed complaint joins the incident alert of its first filing; the supermarket file only counts it', async () => {
    const { biz, bizFoldedInto, bizMerges, incident } = await run(false);
    expect(biz?.title).toMatch(/好又多超市/);
    expect(bizFoldedInto).toBeNull();
    expect(bizMerges).toEqual([]);
    expect(incident?.itemIds).toContain(SUPERMARKET[0]!.id);
  }, 60_000);

  // BUG (src/alerts/stage.ts AlertStage.init → IncidentIndex.load): the rebuild loads *every*
  // (fixed: init() indexes incident alerts only) recent alert into the incident index, including the repeat-complaint alerts (`biz:…`) that
  // handle() never indexes — with their items, so they even win the exact-duplicate hash. After
  // any restart (a crash or a plain deploy) a re-filed or near-identical complaint links the
  // incident alert and the "one enterprise, one file" alert: at d84f3c7 the biz alert is folded
  // into the incident (mergedInto) and vanishes from the desk's lists and counts; before the
  // fold, the complaint was merged into the biz alert instead of its incident (no "raised"
  // delivery for it). Found by kill.test.ts (items alerted undisturbed, only in a biz: alert after
  // kills). Fix: index only incident alerts in init() (skip `biz:`/`sys-` ids, or give alerts a kind).
  it('after a restart, a re-filed complaint still joins the incident alert, not the supermarket file', async () => {
    const { biz, bizFoldedInto, bizMerges, incident } = await run(true);
    expect(bizFoldedInto, 'the supermarket file was folded into an incident and vanished from the desk').toBeNull();
    expect(biz?.title).toMatch(/好又多超市/);
    expect(bizMerges).toEqual([]);
    expect(incident?.itemIds).toContain(SUPERMARKET[0]!.id);
  }, 60_000);

  // The baseline the fault tests compare against: with no fault at all, an item lives in one
  // live incident alert (a report linking two alerts folds one into the other, mergedInto).
  it('undisturbed: no item sits in two live incident alerts', async () => {
    const batches = [hotlineRows(1, 150, 9001), hotlineRows(2, 150, 9002)].map((rows, i) =>
      rows.map((r): RawItem => ({
        id: itemId(SOURCE, r.登记编号),
        sourceId: SOURCE,
        kind: 'complaint',
        title: `${r.诉求类型}：${r.被投诉主体}`,
        body: r.诉求内容,
        publishedAt: new Date(Date.parse(r.登记时间.replace(' ', 'T') + '+08:00')).toISOString(),
        fetchedAt: new Date().toISOString(),
        regionHint: r.所属区域,
        fields: { 登记编号: r.登记编号, 诉求类型: r.诉求类型, 被投诉主体: r.被投诉主体, 所属区域: r.所属区域, batch: String(i) },
      })),
    );
    const { alerts } = await undisturbed(batches);
    const claimed = new Map<string, string[]>();
    for (const a of alerts.filter(isIncident)) for (const id of a.itemIds) claimed.set(id, [...(claimed.get(id) ?? []), a.id]);
    expect([...claimed].filter(([, as]) => as.length > 1)).toEqual([]);
  }, 60_000);
});
