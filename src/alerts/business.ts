import type { RawItem, ScoredItem } from '../core/types.ts';
import { regionIndex } from '../text/regions-data.ts';

/*
 * "One enterprise, one file": the business a complaint names (被投诉主体) is tracked so that
 * repeated complaints about one shop raise a signal even when each complaint alone stays below the
 * alert level. Pure and in memory; the runner rebuilds it from stored items at start.
 */

/** Field names a hotline export may use for the named business, in order of preference. */
export const BUSINESS_FIELDS = ['被投诉主体', '被投诉主体.名称', '被投诉主体名称', '被投诉单位'] as const;

/** Complaints about one business within this window are counted together. */
export const REPEAT_WINDOW_MS = 30 * 24 * 3600_000;
/** The count at which the tracker signals (three complaints in 30 days is the bureau's usual "重点关注"). */
export const REPEAT_THRESHOLD = 3;
/** Most business-and-region files the tracker holds (the oldest opened go first): flat memory in a flood. */
export const MAX_TRACKED_BUSINESSES = 50_000;

/** The business named by an item, as written (trimmed), or null. */
export function businessName(item: Pick<RawItem, 'fields'>): string | null {
  for (const f of BUSINESS_FIELDS) {
    const v = item.fields?.[f]?.trim();
    if (v) return v;
  }
  return null;
}

// Longest first, so 有限责任公司 is stripped whole rather than leaving 有限责任.
const LEGAL_SUFFIXES = ['股份有限公司', '有限责任公司', '有限公司', '分公司', '公司', '分店', '门店', '店'];
const PUNCT = /[\s\p{P}\p{S}]+/gu;

let fullNames: string[] | null = null;
/** Official full names of every region (江西省, 南昌市, 东湖区…), longest first. */
function regionFullNames(): string[] {
  if (!fullNames) {
    const set = new Set<string>();
    for (const r of regionIndex().regions.values()) if (!r.pseudo && r.name.length >= 2) set.add(r.name);
    fullNames = [...set].sort((a, b) => b.length - a.length);
  }
  return fullNames;
}

/**
 * The key two mentions of one business share; only for matching, never shown. Folds width
 * (NFKC), drops whitespace and punctuation (so （文清路店） and 文清路店 agree), drops a leading run
 * of official region names (the hotline writes 南昌市东湖区湘味小厨餐馆, a caller says 湘味小厨餐馆)
 * and one legal-form suffix (有限公司, 有限责任公司, 店…). Region names are stripped only when they
 * are official full names, so 好又多超市 keeps its 市 and 城西华润万佳 its 城西.
 */
export function businessKey(name: string): string {
  let s = name.normalize('NFKC').replace(PUNCT, '');
  for (let stripped = true; stripped; ) {
    stripped = false;
    for (const n of regionFullNames()) {
      if (s.startsWith(n) && s.length > n.length + 1) {
        s = s.slice(n.length);
        stripped = true;
        break;
      }
    }
  }
  for (const suf of LEGAL_SUFFIXES) {
    if (s.endsWith(suf) && s.length > suf.length + 1) {
      s = s.slice(0, -suf.length);
      break;
    }
  }
  return s;
}

export interface RepeatComplaintSignal {
  /** Stable per business and region (`biz:<key>@<region>`): successive signals update one alert. */
  id: string;
  /** The business as the latest complaint wrote it, for display. */
  business: string;
  key: string;
  /** Most specific GB/T 2260 code of the complaints ('' when none). */
  region: string;
  count: number;
  /** Every complaint in the window, oldest first. */
  itemIds: string[];
  firstAt: string;
  lastAt: string;
  /** Chinese one-liner for the alert history / summary. */
  note: string;
}

export interface BusinessTrackerOptions {
  windowMs?: number;
  threshold?: number;
  /**
   * Which items count. Default: complaints (投诉 and 举报 both arrive as kind 'complaint') that at
   * least one food-safety rule matched (category set), whatever their level — so a photo studio or
   * a driving school named in the same hotline export never counts.
   */
  counts?: (item: TrackedItem) => boolean;
}

/** What the tracker reads of an item. */
export type TrackedItem = Pick<ScoredItem, 'id' | 'kind' | 'category' | 'fields' | 'regions' | 'publishedAt'>;

/** An item reduced to what the tracker reads (a restart keeps only this of each recent item). */
export function trackedItem(item: ScoredItem): TrackedItem {
  const name = businessName(item);
  return { id: item.id, kind: item.kind, category: item.category, fields: name ? { [BUSINESS_FIELDS[0]]: name } : {}, regions: item.regions.slice(0, 1), publishedAt: item.publishedAt };
}

interface Seen {
  itemId: string;
  at: number;
}

const defaultCounts = (item: TrackedItem) => item.kind === 'complaint' && item.category !== null;

export class BusinessTracker {
  readonly windowMs: number;
  readonly threshold: number;
  private readonly counts: (item: TrackedItem) => boolean;
  private readonly buckets = new Map<string, { business: string; key: string; region: string; seen: Seen[] }>();
  private lastSweep = -Infinity;

  constructor(opts: BusinessTrackerOptions = {}) {
    this.windowMs = opts.windowMs ?? REPEAT_WINDOW_MS;
    this.threshold = opts.threshold ?? REPEAT_THRESHOLD;
    this.counts = opts.counts ?? defaultCounts;
    if (!(this.threshold >= 2)) throw new Error(`BusinessTracker: threshold must be at least 2, got ${this.threshold}`);
  }

  /**
   * Records one item. Returns a signal when the business's count in the window is at or above the
   * threshold after this item; null otherwise, and always null for an item id already seen (a
   * replay). The window is measured back from this item's publishedAt, so items arriving out of
   * order are counted by when they happened.
   */
  observe(item: TrackedItem): RepeatComplaintSignal | null {
    if (!this.counts(item)) return null;
    const business = businessName(item);
    if (!business) return null;
    const key = businessKey(business);
    if (!key) return null;
    const region = item.regions[0] ?? '';
    const bucketKey = `${key}@${region}`;
    let b = this.buckets.get(bucketKey);
    if (!b) {
      b = { business, key, region, seen: [] };
      this.buckets.set(bucketKey, b);
      if (this.buckets.size > MAX_TRACKED_BUSINESSES) this.buckets.delete(this.buckets.keys().next().value!);
    }
    if (b.seen.some((s) => s.itemId === item.id)) return null;
    const at = Date.parse(item.publishedAt);
    b.business = business;
    // A one-complaint file (most of them) keeps an array of its size, not one grown by push.
    if (b.seen.length) b.seen.push({ itemId: item.id, at });
    else b.seen = [{ itemId: item.id, at }];
    b.seen.sort((x, y) => x.at - y.at || (x.itemId < y.itemId ? -1 : 1));
    const inWindow = b.seen.filter((s) => s.at > at - this.windowMs && s.at <= at + this.windowMs);
    // Count the complaints within one window that contains this item: the densest run around it.
    let best: Seen[] = [];
    for (let i = 0; i < inWindow.length; i++) {
      const run = inWindow.filter((s) => s.at >= inWindow[i]!.at && s.at < inWindow[i]!.at + this.windowMs);
      if (run.some((s) => s.itemId === item.id) && run.length > best.length) best = run;
    }
    if (best.length < this.threshold) return null;
    const days = Math.round(this.windowMs / 86_400_000);
    return {
      id: `biz:${key}@${region}`,
      business,
      key,
      region,
      count: best.length,
      itemIds: best.map((s) => s.itemId),
      firstAt: new Date(best[0]!.at).toISOString(),
      lastAt: new Date(best[best.length - 1]!.at).toISOString(),
      note: `${days}天内收到针对“${business}”的投诉举报${best.length}件，达到重点关注线（${this.threshold}件）`,
    };
  }

  /**
   * Forgets complaints older than the window before `now`. A sweep visits every file, so it runs
   * once per hour of event time; observe() counts only complaints inside the window anyway.
   */
  evict(now: Date | number): void {
    const cutoff = +now - this.windowMs;
    if (cutoff - this.lastSweep < 3_600_000) return;
    this.lastSweep = cutoff;
    for (const [k, b] of this.buckets) {
      b.seen = b.seen.filter((s) => s.at >= cutoff);
      if (!b.seen.length) this.buckets.delete(k);
    }
  }

  /** Complaints currently held for a business (any region), for the "one enterprise, one file" view. */
  countFor(name: string): number {
    const key = businessKey(name);
    let n = 0;
    for (const b of this.buckets.values()) if (b.key === key) n += b.seen.length;
    return n;
  }
}
