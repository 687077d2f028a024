import type { Alert, HistoryEntry } from '../core/types.ts';
import { DEFAULT_ESCALATION, type EscalationPolicy } from '../config/routes.ts';
import { TIERS, TIER_NAMES, type Tier } from './routing.ts';

/*
 * Escalation of alerts nobody acknowledged. An alert still 'new' after the level's time
 * (routes.yaml `escalation.after_minutes`, default 红 15, 橙 60, 黄 240, 蓝 never) escalates, and
 * again after each further period, one tier up each time: step 1 tells the city, step 2 the
 * province, later steps remind the province, up to `max_steps`. Times count from the alert's
 * createdAt. Pure: the runner calls `dueEscalations` on a timer and applies what comes back.
 *
 * Applied once: each step appends one history entry with action 'escalate', and the steps already
 * in the history are not returned again, so a timer firing twice, or a restart, changes nothing.
 * `id` (alert id + step number) is for the delivery ids of the re-notifications.
 */

export const ESCALATE_ACTION = 'escalate';

export interface EscalationStep {
  /** `${alert.id}:escalate:${step}` — stable, so re-notifications deduplicate in the queue. */
  id: string;
  step: number;
  /** When the step became due. */
  dueAt: string;
  /** The tier to (re-)notify. */
  tier: Tier;
  /** Minutes since the alert was raised, at dueAt. */
  minutes: number;
  /** The history entry to append (Chinese note for the desk). */
  history: HistoryEntry;
  /** The desk shows the alert with raised attention (highlighted, sorted first) from this step on. */
  attention: true;
}

/** Escalation steps of `alert` that are due at `now` and not yet in its history, in order. */
export function dueEscalations(alert: Alert, now: Date | number, policy: EscalationPolicy = DEFAULT_ESCALATION): EscalationStep[] {
  if (alert.status !== 'new') return [];
  const minutes = policy.afterMinutes[alert.level];
  if (!minutes) return [];
  const created = Date.parse(alert.createdAt);
  if (Number.isNaN(created)) return [];
  const applied = alert.history.filter((h) => h.action === ESCALATE_ACTION).length;
  const elapsed = +now - created;
  const steps: EscalationStep[] = [];
  for (let step = applied + 1; step <= policy.maxSteps; step++) {
    const after = step * minutes;
    if (elapsed < after * 60_000) break;
    const tier = TIERS[Math.min(step, TIERS.length - 1)]!;
    const again = step > TIERS.length - 1;
    const dueAt = new Date(created + after * 60_000).toISOString();
    steps.push({
      id: `${alert.id}:escalate:${step}`,
      step,
      dueAt,
      tier,
      minutes: after,
      attention: true,
      history: {
        at: new Date(+now).toISOString(),
        action: ESCALATE_ACTION,
        actor: 'sentinel',
        note: `${alert.level}色预警${formatMinutes(after)}未确认，${again ? '再次' : '升级'}通知${TIER_NAMES[tier]}`,
      },
    });
  }
  return steps;
}

/** 15分钟, 1小时, 1小时30分钟, 4小时. */
export function formatMinutes(m: number): string {
  if (m < 60) return `${m}分钟`;
  const h = Math.floor(m / 60);
  const r = m % 60;
  return r ? `${h}小时${r}分钟` : `${h}小时`;
}

/** When the next step falls due (for the runner's timer), or null when none will. */
export function nextEscalationAt(alert: Alert, policy: EscalationPolicy = DEFAULT_ESCALATION): Date | null {
  if (alert.status !== 'new') return null;
  const minutes = policy.afterMinutes[alert.level];
  if (!minutes) return null;
  const step = alert.history.filter((h) => h.action === ESCALATE_ACTION).length + 1;
  if (step > policy.maxSteps) return null;
  const created = Date.parse(alert.createdAt);
  return Number.isNaN(created) ? null : new Date(created + step * minutes * 60_000);
}
