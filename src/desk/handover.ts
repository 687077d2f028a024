import type { Alert } from '../core/types.ts';
import { levelRank } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { allAlerts } from './collect.ts';

/**
 * Shift handover (交接班): what came in during the shift, what is still open (all of it, not
 * only this shift's), and what escalated — alerts whose history has an `escalate` entry within
 * the shift. Escalation only happens to unacknowledged alerts, so the open list plus this
 * shift's arrivals hold every alert that can have escalated.
 */
export interface Handover {
  from: string;
  to: string;
  arrived: Alert[];
  open: Alert[];
  escalated: { alert: Alert; at: string; note?: string }[];
  /** Workflow actions taken during the shift, newest first. */
  actions: { alertId: string; title: string; at: string; actor: string; action: string; note?: string }[];
}

const bySeverity = (a: Alert, b: Alert) => levelRank(a.level) - levelRank(b.level) || a.firstSeenAt.localeCompare(b.firstSeenAt);

export async function buildHandover(store: Store, opts: { from: Date; to: Date; region?: string[] }): Promise<Handover> {
  const from = opts.from.toISOString();
  const to = opts.to.toISOString();
  const region = opts.region ? { region: opts.region } : {};
  const [arrived, open] = await Promise.all([
    allAlerts(store, { from, to, ...region }),
    allAlerts(store, { status: ['new', 'acknowledged', 'assigned'], ...region }),
  ]);
  const seen = new Map<string, Alert>();
  for (const a of [...arrived, ...open]) seen.set(a.id, a);
  const inShift = (at: string) => at >= from && at <= to;
  const escalated: Handover['escalated'] = [];
  const actions: Handover['actions'] = [];
  for (const a of seen.values()) {
    const esc = a.history.filter((h) => h.action === 'escalate' && inShift(h.at)).at(-1);
    if (esc) escalated.push({ alert: a, at: esc.at, ...(esc.note ? { note: esc.note } : {}) });
    for (const h of a.history) {
      if (inShift(h.at) && h.action !== 'escalate') actions.push({ alertId: a.id, title: a.title, at: h.at, actor: h.actor, action: h.action, ...(h.note ? { note: h.note } : {}) });
    }
  }
  return {
    from,
    to,
    arrived: arrived.sort(bySeverity),
    open: open.sort(bySeverity),
    escalated: escalated.sort((a, b) => bySeverity(a.alert, b.alert)),
    actions: actions.sort((a, b) => b.at.localeCompare(a.at)),
  };
}
