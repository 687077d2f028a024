import type { Alert, Level, ScoredItem } from '../core/types.ts';

/** What one stored item raises live (as stored) and under the candidate rules. */
export interface BacktestPair {
  item: ScoredItem;
  live: Alert | null;
  candidate: Alert | null;
  /** The candidate's explanation of its best rule (or closest), for reading why. */
  reason?: string;
}

export interface BacktestEntry {
  itemId: string;
  title: string;
  publishedAt: string;
  live: { level: Level; category: string } | null;
  candidate: { level: Level; category: string } | null;
  reason?: string;
}

export interface BacktestReport {
  items: number;
  liveAlerts: number;
  candidateAlerts: number;
  added: BacktestEntry[];
  removed: BacktestEntry[];
  /** Both raise an alert but at a different level or under a different category. */
  changed: BacktestEntry[];
  unchanged: number;
}

const brief = (a: Alert | null) => (a ? { level: a.level, category: a.category } : null);

/** Sorts each item into added / removed / changed / unchanged, comparing the candidate with the live result. */
export function compareBacktest(pairs: Iterable<BacktestPair>): BacktestReport {
  const report: BacktestReport = { items: 0, liveAlerts: 0, candidateAlerts: 0, added: [], removed: [], changed: [], unchanged: 0 };
  for (const p of pairs) {
    report.items++;
    if (p.live) report.liveAlerts++;
    if (p.candidate) report.candidateAlerts++;
    const entry: BacktestEntry = {
      itemId: p.item.id,
      title: p.item.title || p.item.body.slice(0, 40),
      publishedAt: p.item.publishedAt,
      live: brief(p.live),
      candidate: brief(p.candidate),
      ...(p.reason ? { reason: p.reason } : {}),
    };
    if (p.candidate && !p.live) report.added.push(entry);
    else if (p.live && !p.candidate) report.removed.push(entry);
    else if (p.live && p.candidate && (p.live.level !== p.candidate.level || p.live.category !== p.candidate.category)) report.changed.push(entry);
    else report.unchanged++;
  }
  return report;
}

/** `30d`, `12h`, `90m`, an ISO date, or `all` → the earliest publishedAt to look at (undefined = everything). */
export function parseSince(since: string, now = new Date()): Date | undefined {
  const s = since.trim();
  if (s === 'all') return undefined;
  const m = /^(\d+)([dhm])$/.exec(s);
  if (m) {
    const ms = { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
    return new Date(now.getTime() - Number(m[1]) * ms);
  }
  const t = Date.parse(s);
  if (!Number.isNaN(t)) return new Date(t);
  throw new Error(`--since: expected a span such as 30d, 12h or 90m, an ISO date, or 'all'; got '${since}'`);
}
