import type { Alert } from '../core/types.ts';
import type { SourceStatus } from '../pipeline/source-state.ts';

/** The category of alerts about the monitor itself, kept apart from the risk taxonomy. */
export const SYSTEM_CATEGORY = '系统监测';

/** Polls in a row that must fail before a source counts as down (one blip is not an outage). */
export const FAILURES_BEFORE_OUTAGE = 3;
/** A source silent for this many of its intervals (and at least an hour) has stopped. */
export const SILENT_INTERVALS = 3;

export interface Outage {
  since: string;
  reason: string;
}

/**
 * Has monitoring of this source stopped? The worst failure of a monitor is the one nobody
 * notices, so both a run of failures and a long silence count.
 */
export function sourceOutage(s: SourceStatus, everyMs: number, now: Date): Outage | null {
  if (s.consecutiveFailures >= FAILURES_BEFORE_OUTAGE) {
    return {
      since: s.lastSuccessAt ?? s.lastErrorAt ?? now.toISOString(),
      reason: `连续 ${s.consecutiveFailures} 次采集失败：${s.lastError ?? '未知错误'}`,
    };
  }
  const limit = Math.max(SILENT_INTERVALS * everyMs, 3_600_000);
  const last = s.lastSuccessAt ? Date.parse(s.lastSuccessAt) : null;
  if (last !== null && now.getTime() - last > limit) {
    const hours = Math.round(((now.getTime() - last) / 3_600_000) * 10) / 10;
    return { since: s.lastSuccessAt!, reason: `已 ${hours} 小时没有成功采集（正常间隔 ${Math.round(everyMs / 60_000)} 分钟）` };
  }
  return null;
}

/** One system alert per outage (its id names the source and when the outage began). */
export function outageAlert(sourceId: string, outage: Outage, now: Date): Alert {
  const at = now.toISOString();
  return {
    id: `sys-${sourceId}-${Date.parse(outage.since).toString(36)}`,
    level: '橙',
    category: SYSTEM_CATEGORY,
    region: '',
    regions: [],
    title: `监测中断：信息源 ${sourceId} 已停止`,
    summary: outage.reason,
    score: 0,
    itemIds: [],
    sources: [sourceId],
    kinds: [],
    terms: [],
    status: 'new',
    firstSeenAt: at,
    lastSeenAt: at,
    createdAt: at,
    updatedAt: at,
    history: [{ at, action: 'raise', actor: 'sentinel', note: outage.reason }],
    version: 1,
  };
}
