import { z } from 'zod';

/** What a source saw. Kinds matter to scoring: a complaint counts differently from a repost. */
export const ITEM_KINDS = ['news', 'complaint', 'notice'] as const;
export const ItemKind = z.enum(ITEM_KINDS);
export type ItemKind = z.infer<typeof ItemKind>;

/** Alert levels, most severe first: 红 = I, 橙 = II, 黄 = III, 蓝 = IV. */
export const LEVELS = ['红', '橙', '黄', '蓝'] as const;
export const Level = z.enum(LEVELS);
export type Level = z.infer<typeof Level>;

/** Lower rank = more severe; lets code compare levels without string tables. */
export const levelRank = (l: Level): number => LEVELS.indexOf(l);
export const atLeast = (l: Level | null | undefined, min: Level): boolean =>
  l != null && levelRank(l) <= levelRank(min);
export const maxLevel = (a: Level | null, b: Level | null): Level | null =>
  a == null ? b : b == null ? a : levelRank(a) <= levelRank(b) ? a : b;

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

export const RawItem = z.object({
  /** Stable hash of source id and the item's own key (guid, url, complaint number). */
  id: z.string().min(1),
  sourceId: z.string().min(1),
  kind: ItemKind,
  title: z.string(),
  body: z.string(),
  url: z.string().optional(),
  publishedAt: isoDate,
  fetchedAt: isoDate,
  /** A region the source itself asserts (a hotline record's 所属区域): name or GB/T 2260 code. */
  regionHint: z.string().optional(),
  /** Named fields the source carried (被投诉主体, 登记编号, 处理状态, …). */
  fields: z.record(z.string(), z.string()).default({}),
});
export type RawItem = z.infer<typeof RawItem>;

/** One term that fired, with its offsets into ScoredItem.text. */
export const Hit = z.object({
  rule: z.string(),
  group: z.string(),
  term: z.string(),
  start: z.number().int(),
  end: z.number().int(),
  weight: z.number(),
  /** A negation cue stood before the term (未发现, 辟谣, …); it then counts nothing. */
  negated: z.boolean().default(false),
});
export type Hit = z.infer<typeof Hit>;

/** Why one rule scored what it scored. Free-form details are allowed so the rules issue can deepen it. */
export const RuleExplanation = z
  .object({
    rule: z.string(),
    name: z.string(),
    category: z.string(),
    matched: z.boolean(),
    score: z.number(),
    level: Level.nullable(),
    reason: z.string(),
  })
  .passthrough();
export type RuleExplanation = z.infer<typeof RuleExplanation>;

export const ScoredItem = RawItem.extend({
  /** Normalised title + '\n' + body; hit offsets point into it. */
  text: z.string(),
  /** The segmenter's tokens of `text` joined by single spaces (src/text/tokens.ts). */
  tokens: z.string(),
  /** 64-bit SimHash as 16 hex digits. */
  simhash: z.string(),
  /** GB/T 2260 codes, most specific first. */
  regions: z.array(z.string()),
  category: z.string().nullable(),
  score: z.number(),
  level: Level.nullable(),
  risk: z.boolean(),
  hits: z.array(Hit),
  explanation: z.array(RuleExplanation),
  processedAt: isoDate,
});
export type ScoredItem = z.infer<typeof ScoredItem>;

export const ALERT_STATUSES = ['new', 'acknowledged', 'assigned', 'closed'] as const;
export const AlertStatus = z.enum(ALERT_STATUSES);
export type AlertStatus = z.infer<typeof AlertStatus>;

export const ALERT_ACTIONS = ['acknowledge', 'assign', 'note', 'close', 'reopen'] as const;
export const AlertAction = z.enum(ALERT_ACTIONS);
export type AlertAction = z.infer<typeof AlertAction>;

export const HistoryEntry = z.object({
  at: isoDate,
  action: z.string(),
  actor: z.string(),
  note: z.string().optional(),
  from: AlertStatus.optional(),
  to: AlertStatus.optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const Alert = z.object({
  id: z.string(),
  level: Level,
  category: z.string(),
  /** Most specific region first; '' when none was found. */
  region: z.string(),
  regions: z.array(z.string()),
  title: z.string(),
  summary: z.string(),
  score: z.number(),
  /**
   * The reports behind the alert: all of them up to MAX_ALERT_ITEM_IDS, beyond that the first
   * ones and the most recent (see mergeDetection); `itemCount` then says how many there were.
   */
  itemIds: z.array(z.string()),
  /** How many reports the alert holds; absent while it is itemIds.length (older alerts). */
  itemCount: z.number().int().nonnegative().optional(),
  sources: z.array(z.string()),
  kinds: z.array(ItemKind),
  /** Rule terms that fired across the items, for display and merging. */
  terms: z.array(z.string()),
  status: AlertStatus,
  assignee: z.string().optional(),
  closeReason: z.string().optional(),
  firstSeenAt: isoDate,
  lastSeenAt: isoDate,
  createdAt: isoDate,
  updatedAt: isoDate,
  history: z.array(HistoryEntry),
  /**
   * Set when a later report showed this alert and another to be one incident: the alert was
   * folded into that one and leaves lists and counts (it stays readable by id).
   */
  mergedInto: z.string().optional(),
  /** Optimistic-concurrency counter: every workflow transition bumps it. */
  version: z.number().int(),
});
export type Alert = z.infer<typeof Alert>;

export interface Page<T> {
  total: number;
  items: T[];
}
