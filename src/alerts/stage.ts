import type { Logger } from 'pino';
import type { Alert, HistoryEntry, Level, ScoredItem } from '../core/types.ts';
import { atLeast, maxLevel } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { Delivery, Queue } from '../notify/queue.ts';
import { itemCountOf, mergeDetection } from '../store/shared.ts';
import { alertFor } from './raise.ts';
import { IncidentIndex, INCIDENT_WINDOW_MS, corroboratedLevel, CORROBORATE_ACTION, reportOf, type IndexedAlert, type Report } from './incidents.ts';
import { BusinessTracker, REPEAT_WINDOW_MS, trackedItem, type RepeatComplaintSignal, type TrackedItem } from './business.ts';
import { resolveRecipients, officeFor, type Tier } from './routing.ts';
import { dueEscalations, ESCALATE_ACTION } from './escalation.ts';
import { DEFAULT_ESCALATION, type Routes } from '../config/routes.ts';
import { silencedBy, type Silence } from './silences.ts';
import { describe as describeSilence } from './silences-store.ts';
import { officeOfPrimary } from '../notify/channels.ts';
import { withJoinedTokens } from '../text/tokens.ts';

/** History action of an alert that was not pushed because a silence muted it. */
export const SILENCED_ACTION = 'silenced';
/** History action of a delivery that was dead-lettered (with the channel, the error and the fallback). */
export const DELIVERY_FAILED_ACTION = 'deliveryFailed';

/** What a delivery job carries: which alert and why. Rendering happens at send time, secrets never enter the queue. */
export interface AlertEvent {
  event: 'raised' | 'escalated';
  alertId: string;
  tier?: Tier;
  step?: number;
}

export interface AlertStageDeps {
  store: Store;
  queue: Queue;
  minLevel: Level;
  routes: Routes | null;
  /** Catch-all generic channels receiving every alert (SENTINEL_WEBHOOK_URL and pipeline webhooks). */
  catchAll: string[];
  log: Logger;
  now?: () => Date;
  /** Silences in force (src/alerts/silences-store.ts); a silenced alert is stored and shown, not pushed. */
  silences?: { active(now: Date): Silence[] };
}

/**
 * How late (in event time) a report may arrive and still merge. Partitions of a distributed bus
 * deliver out of order, and a backfill replays old days after new ones; windows are evicted
 * only this far behind the newest event, which bounds memory to about a month of alerts.
 */
export const ALLOWED_LATENESS_MS = 30 * 24 * 3600_000;

/** How many stored alerts / items the stage reads back at start to rebuild its windows. */
const REBUILD_PAGE = 500;
const REBUILD_MAX = 20_000;

/**
 * An alert's history records each merged report up to this many; after that one entry says the
 * rest are no longer listed (the report count still counts them). A large incident wrote one entry
 * per report: 33,000 of them in one alert, copied and rewritten with every further report.
 */
export const MAX_MERGE_ENTRIES = 50;
const MERGES_UNLISTED = `此后并入的报道不再逐条记录（已记录 ${MAX_MERGE_ENTRIES} 篇），报道数仍全部计入`;

/** `merged` (= `into` with `folded` merged in) counting both alerts' reports, listed or not. */
function withFoldedCount(merged: Alert, into: Alert, folded: Alert): Alert {
  const listed = new Set(into.itemIds);
  const shared = folded.itemIds.filter((id) => listed.has(id)).length;
  const count = itemCountOf(into) + itemCountOf(folded) - shared;
  return count > merged.itemIds.length ? { ...merged, itemCount: count } : merged;
}

/** The history with a merge entry, within MAX_MERGE_ENTRIES. */
export function withMergeEntry(history: HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  let merges = 0;
  for (const h of history) if (h.action === 'merge') merges++;
  if (merges < MAX_MERGE_ENTRIES) return [...history, entry];
  if (merges === MAX_MERGE_ENTRIES) return [...history, { ...entry, note: MERGES_UNLISTED }];
  return history;
}

/**
 * The alerts stage: stores scored items, merges reports of one incident into one alert, raises
 * repeat-complaint alerts for one business, lifts levels on corroboration, routes new alerts to
 * the offices concerned and escalates unacknowledged ones. Its windows live in memory and are
 * rebuilt from the store at start, so one alerts worker per pipeline is the supported shape.
 */
export class AlertStage {
  readonly incidents = new IncidentIndex();
  readonly businesses = new BusinessTracker();
  private readonly now: () => Date;
  /**
   * The newest event time seen. Windows are evicted against it, not the wall clock, so a
   * backfill or a replay of old records merges exactly as the live stream did.
   */
  private watermark = 0;

  constructor(private readonly d: AlertStageDeps) {
    this.now = d.now ?? (() => new Date());
  }

  async init(): Promise<void> {
    const now = this.now();
    // The same span the live windows keep (window + allowed lateness), so a restart merges as an
    // uninterrupted run would have.
    const span = Math.max(INCIDENT_WINDOW_MS, REPEAT_WINDOW_MS) + ALLOWED_LATENESS_MS;
    const since = new Date(now.getTime() - span).toISOString();
    // Only incident alerts are indexed, as in live processing: repeat-complaint (biz:) and
    // system (sys-) alerts are not incidents and must never absorb or be folded into one.
    const alerts = await this.pageAll(
      (offset) => this.d.store.searchAlerts({ from: since, limit: REBUILD_PAGE, offset }),
      (a): IndexedAlert[] => (isIncident(a) ? [indexedAlert(a)] : []),
    );
    // Each page of items is reduced to what the windows keep before the next is read: whole
    // documents of 20,000 recent items took a restart's memory to 716 MB (bench figure 5's store).
    const items = await this.pageAll(
      (offset) => this.d.store.searchItems({ from: since, risk: true, limit: REBUILD_PAGE, offset }),
      (it): { report: Report; tracked: TrackedItem }[] => [{ report: reportOf(it), tracked: trackedItem(it) }],
    );
    this.incidents.load(alerts, items.map((i) => i.report));
    for (let i = items.length - 1; i >= 0; i--) this.businesses.observe(items[i]!.tracked);
    this.d.log.info({ alerts: alerts.length, items: items.length }, 'alert windows rebuilt');
  }

  /** Every page up to REBUILD_MAX records, each record kept as `keep` makes it (whole by default). */
  private async pageAll<T, U = T>(page: (offset: number) => Promise<{ items: T[]; total: number }>, keep: (x: T) => U[] = (x) => [x as unknown as U]): Promise<U[]> {
    const out: U[] = [];
    for (let offset = 0; offset < REBUILD_MAX; offset += REBUILD_PAGE) {
      const p = await page(offset);
      for (const x of p.items) out.push(...keep(x));
      if (offset + REBUILD_PAGE >= p.total) break;
    }
    return out;
  }

  /** One bus batch of scored items. Idempotent: a replayed batch changes nothing. */
  async handle(batch: ScoredItem[]): Promise<Alert[]> {
    // A record published before tokens were joined (an older process role, a record still on the
    // bus across an upgrade) carries a list.
    const items = batch.map(withJoinedTokens);
    const now = this.now();
    await this.d.store.upsertItems(items);
    const touched = new Map<string, Alert>();
    const current = async (id: string) => touched.get(id) ?? (await this.d.store.getAlert(id));
    // Rules behind each alert touched in this batch, for rule silences.
    const rulesOf = new Map<string, Set<string>>();
    const noteRules = (alertId: string, item: ScoredItem) => {
      const set = rulesOf.get(alertId) ?? new Set<string>();
      for (const e of item.explanation) if (e.matched) set.add(e.rule);
      rulesOf.set(alertId, set);
    };

    for (const item of items) {
      this.watermark = Math.max(this.watermark, Date.parse(item.publishedAt) || 0);
      const raised = alertFor(item, this.d.minLevel, now);
      if (raised) {
        // Every alert this report belongs to, followed to the alert it now lives in. A report
        // merged before (a batch delivered again after a crash) goes back to its alert only: what
        // the index still holds of that alert may no longer resemble it.
        const report = reportOf(item);
        const owner = this.incidents.ownerOf(item.id);
        const own = owner ? await this.live(current, owner) : null;
        const matches = own ? [] : this.incidents.candidates(report);
        const found = new Map<string, { alert: Alert; why: string }>();
        if (own) found.set(own.id, { alert: own, why: '' });
        for (const m of matches) {
          const a = await this.live(current, m.alertId);
          if (a && !found.has(a.id)) found.set(a.id, { alert: a, why: `合并报道（${reasonName(m.reason)}）：${m.detail}` });
        }
        if (!own && found.size) {
          // The alert this very text raised, which the index may not know: another alerts member
          // (a partition moved mid-batch) can have raised it after this stage last read the store.
          // Joined to the candidates, it is folded with them instead of holding the report twice.
          const same = await this.live(current, raised.id);
          if (same && !found.has(same.id)) found.set(same.id, { alert: same, why: `合并报道（${reasonName('exact')}）：${raised.id}` });
        }
        let alert: Alert;
        if (found.size) {
          // A report that links several alerts shows them to be one incident: fold them into the
          // strongest, so the result does not depend on the order reports arrived in.
          const [lead, ...rest] = [...found.values()].sort((a, b) => stronger(a.alert, b.alert));
          alert = lead!.alert;
          for (const r of rest) {
            // The folded alert keeps its own history; its merged reports are not listed again here.
            const before = alert;
            alert = mergeDetection(alert, { ...r.alert, id: alert.id, history: r.alert.history.filter((h) => h.action !== 'raise' && h.action !== 'merge') });
            alert = withFoldedCount(alert, before, r.alert);
            alert.history = withMergeEntry(alert.history, sentinelEntry(now, 'merge', `并入预警「${r.alert.title}」(${r.alert.id})`));
            touched.set(r.alert.id, { ...r.alert, mergedInto: alert.id, history: [...r.alert.history, sentinelEntry(now, 'folded', `已并入预警 ${alert.id}`)] });
            this.incidents.absorb(alert.id, r.alert.id);
          }
          const had = own !== null || alert.itemIds.includes(item.id);
          alert = mergeDetection(alert, { ...raised, id: alert.id, history: [] });
          if (!had) alert.history = withMergeEntry(alert.history, sentinelEntry(now, 'merge', lead!.why));
        } else {
          const existing = await this.live(current, raised.id);
          alert = existing ? mergeDetection(existing, { ...raised, id: existing.id }) : raised;
        }
        alert = this.corroborate(alert, now);
        touched.set(alert.id, alert);
        noteRules(alert.id, item);
        this.incidents.add(alert, report);
      }
      const signal = this.businesses.observe(item);
      if (signal) {
        const existing = await current(signal.id);
        // The strongest complaint of the run names the file, whichever arrived third.
        const members = await this.d.store.getItems(signal.itemIds);
        const lead = [item, ...members].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))[0]!;
        const alert = repeatComplaintAlert(signal, lead, existing, now);
        touched.set(alert.id, alert);
        noteRules(alert.id, item);
      }
    }
    const silences = this.d.silences?.active(now) ?? [];
    const alerts: Alert[] = [];
    const pushed: Alert[] = [];
    for (const a of touched.values()) {
      const muted = silences.length ? await this.mutedBy(a, silences, now, rulesOf.get(a.id)) : null;
      if (muted) alerts.push(withSilenced(a, muted, now));
      else {
        alerts.push(a);
        pushed.push(a);
      }
    }
    await this.d.store.upsertAlerts(alerts);
    // Delivery ids are stable per alert, channel and event: a replayed batch enqueues nothing new.
    await this.d.queue.enqueue(pushed.flatMap((a) => this.deliveriesFor(a, { event: 'raised', alertId: a.id })));
    this.incidents.evict(this.watermark - ALLOWED_LATENESS_MS);
    this.businesses.evict(this.watermark - ALLOWED_LATENESS_MS);
    return alerts;
  }

  /** The alert an id lives in now: folded alerts point to the incident they were merged into. */
  private async live(current: (id: string) => Promise<Alert | null>, id: string): Promise<Alert | null> {
    let a = await current(id);
    for (let hops = 0; a?.mergedInto && hops < 16; hops++) a = await current(a.mergedInto);
    return a;
  }

  private corroborate(alert: Alert, now: Date): Alert {
    const c = corroboratedLevel(alert, { kinds: alert.kinds, sources: alert.sources.length, items: itemCountOf(alert) });
    if (!c.reason) return alert;
    return {
      ...alert,
      level: maxLevel(alert.level, c.level) ?? alert.level,
      history: [...alert.history, sentinelEntry(now, CORROBORATE_ACTION, c.reason)],
    };
  }

  /**
   * The silence muting this alert now, if any. Rule silences need the rules behind the alert:
   * those of this batch's reports plus, only when a rule silence exists, its stored reports.
   */
  private async mutedBy(alert: Alert, silences: Silence[], now: Date, batchRules?: Set<string>): Promise<Silence | null> {
    const rules = new Set(batchRules ?? []);
    if (silences.some((s) => s.rule && !rules.has(s.rule))) {
      for (const it of await this.d.store.getItems(alert.itemIds.slice(0, 200))) {
        for (const e of it.explanation) if (e.matched) rules.add(e.rule);
      }
    }
    return silencedBy(alert, silences, now, [...rules]);
  }

  /**
   * A delivery was dead-lettered (the queue's onDead hook): the same event goes to the fallback
   * channels of the office whose channel failed, and the alert's history says which channel
   * failed, why, and where the event went instead. A fallback or catch-all channel has no
   * fallback of its own. Safe to call twice: fallback delivery ids are stable and the history
   * entry is written once per delivery.
   */
  async deliveryFailed(d: Delivery, error: string): Promise<void> {
    const now = this.now();
    const office = officeOfPrimary(this.d.routes, d.channel);
    const fallback = office?.fallback.filter((c) => c.enabled) ?? [];
    await this.d.queue.enqueue(fallback.map((c) => ({ id: `${d.id}>${c.name}`, alertId: d.alertId, channel: c.name, payload: d.payload })));
    const alert = await this.d.store.getAlert(d.alertId);
    const tag = `（投递 ${d.id}）`;
    if (!alert || alert.history.some((h) => h.action === DELIVERY_FAILED_ACTION && h.note?.endsWith(tag))) return;
    const then = fallback.length
      ? `；已改由备用通道 ${fallback.map((c) => c.name).join('、')} 推送`
      : office
        ? `；${office.name}未配置可用的备用通道`
        : '';
    const entry = sentinelEntry(now, DELIVERY_FAILED_ACTION, `推送失败：${d.channel}：${error}${then}${tag}`);
    await this.d.store.upsertAlerts([{ ...alert, history: [...alert.history, entry] }]);
    this.d.log.warn({ alert: d.alertId, channel: d.channel, fallback: fallback.map((c) => c.name) }, 'delivery dead-lettered');
  }

  /** The deliveries one event of one alert causes: the offices concerned plus every catch-all channel. */
  deliveriesFor(alert: Alert, ev: AlertEvent): Delivery[] {
    const out: Delivery[] = [];
    const suffix = ev.event === 'raised' ? 'raised' : `escalated-${ev.step}`;
    const add = (channel: string) => out.push({ id: `${alert.id}.${channel}.${suffix}`, alertId: alert.id, channel, payload: ev });
    if (ev.event === 'raised') {
      for (const c of this.d.catchAll) add(c);
      if (this.d.routes) for (const r of resolveRecipients(alert, this.d.routes)) for (const ch of r.channels) add(ch.name);
    } else if (this.d.routes && ev.tier) {
      const hit = officeFor(this.d.routes, alert.region, ev.tier);
      for (const ch of hit?.office.channels.filter((c) => c.enabled) ?? []) add(ch.name);
    }
    return out;
  }

  /** Escalates every unacknowledged alert whose time has come: history, re-notification of the next tier. */
  async escalate(): Promise<number> {
    const now = this.now();
    const policy = this.d.routes?.escalation ?? DEFAULT_ESCALATION;
    const open = await this.pageAll((offset) => this.d.store.searchAlerts({ status: ['new'], limit: REBUILD_PAGE, offset }));
    const silences = this.d.silences?.active(now) ?? [];
    let n = 0;
    for (const alert of open) {
      const steps = dueEscalations(alert, now, policy);
      if (!steps.length) continue;
      let next: Alert = { ...alert, history: [...alert.history, ...steps.map((s) => s.history)] };
      // Escalation is still written (the desk raises attention), only the re-notification is muted.
      const muted = silences.length ? await this.mutedBy(alert, silences, now) : null;
      if (muted) next = withSilenced(next, muted, now);
      await this.d.store.upsertAlerts([next]);
      if (!muted) await this.d.queue.enqueue(steps.flatMap((s) => this.deliveriesFor(next, { event: 'escalated', alertId: alert.id, tier: s.tier, step: s.step })));
      n += steps.length;
    }
    if (n) this.d.log.warn({ steps: n }, 'alerts escalated');
    return n;
  }
}

/** An alert reduced to what the merge index reads. */
function indexedAlert(a: Alert): IndexedAlert {
  return { id: a.id, category: a.category, regions: a.regions, region: a.region, terms: a.terms, firstSeenAt: a.firstSeenAt, lastSeenAt: a.lastSeenAt, itemIds: a.itemIds };
}

/** Alerts raised from reports (not the repeat-complaint or monitoring alerts). */
export function isIncident(a: Alert): boolean {
  return !a.id.startsWith('biz:') && !a.id.startsWith('sys-') && !a.mergedInto;
}

/** The alert with a 'silenced' history entry for this silence, added once per silence. */
function withSilenced(a: Alert, s: Silence, now: Date): Alert {
  const tag = `[${s.id}]`;
  if (a.history.some((h) => h.action === SILENCED_ACTION && h.note?.includes(tag))) return a;
  const note = `已静默，不推送：${describeSilence(s)}；原因：${s.reason}；${s.createdBy} 设置，至 ${s.until} ${tag}`;
  return { ...a, history: [...a.history, sentinelEntry(now, SILENCED_ACTION, note)] };
}

function sentinelEntry(now: Date, action: string, note: string): HistoryEntry {
  return { at: now.toISOString(), action, actor: 'sentinel', note };
}

/** Order for choosing which of several linked alerts survives: higher score, then older, then id. */
function stronger(a: Alert, b: Alert): number {
  return b.score - a.score || a.firstSeenAt.localeCompare(b.firstSeenAt) || a.id.localeCompare(b.id);
}

const reasonName = (r: string) => (r === 'exact' ? '内容相同' : r === 'near' ? '近似转载' : '同一事件');

/** The "one enterprise, one file" alert: repeated complaints about one business in the window. */
function repeatComplaintAlert(signal: RepeatComplaintSignal, item: ScoredItem, existing: Alert | null, now: Date): Alert {
  const at = now.toISOString();
  const level: Level = atLeast(item.level, '黄') ? item.level! : '黄';
  const incoming: Alert = {
    id: signal.id,
    level,
    category: item.category ?? '食品销售',
    region: signal.region,
    regions: signal.region ? [signal.region] : [],
    title: `同一经营者被重复投诉：${signal.business}（${signal.count} 次）`,
    summary: signal.note,
    score: item.score,
    itemIds: signal.itemIds,
    sources: [item.sourceId],
    kinds: ['complaint'],
    terms: [...new Set(item.hits.filter((h) => !h.negated).map((h) => h.term))],
    status: 'new',
    firstSeenAt: new Date(signal.firstAt).toISOString(),
    lastSeenAt: new Date(signal.lastAt).toISOString(),
    createdAt: at,
    updatedAt: at,
    history: [sentinelEntry(now, 'raise', signal.note)],
    version: 1,
  };
  return existing ? mergeDetection(existing, { ...incoming, history: [] }) : incoming;
}

export { ESCALATE_ACTION };
