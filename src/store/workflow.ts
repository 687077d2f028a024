import type { Alert, AlertStatus } from '../core/types.ts';
import { ConflictError, TransitionError } from '../core/errors.ts';
import type { TransitionRequest } from './store.ts';

/** Disposal results a closed alert must carry (the bureau's ledger counts them). */
export const CLOSE_REASONS = ['核实属实', '不属实', '已处置', '移交'] as const;

/**
 * The alert workflow, kept apart from detection (after Elastic Security's model):
 * new → acknowledged → assigned → closed, notes at any time, reopen from closed.
 * Pure, so every store engine applies exactly the same rules.
 */
export function applyTransition(alert: Alert, req: TransitionRequest, now: Date): Alert {
  if (req.expectedVersion !== undefined && req.expectedVersion !== alert.version) {
    throw new ConflictError(
      `alert ${alert.id} was changed by someone else (version ${alert.version}, you saw ${req.expectedVersion})`,
    );
  }
  const from = alert.status;
  let to: AlertStatus = from;
  const next: Alert = { ...alert };
  switch (req.action) {
    case 'acknowledge':
      if (from !== 'new') throw new TransitionError(`cannot acknowledge an alert that is ${from}`);
      to = 'acknowledged';
      break;
    case 'assign':
      if (from === 'closed') throw new TransitionError('cannot assign a closed alert; reopen it first');
      if (!req.assignee?.trim()) throw new TransitionError('assign needs an assignee');
      to = 'assigned';
      next.assignee = req.assignee.trim();
      break;
    case 'note':
      if (!req.note?.trim()) throw new TransitionError('a note needs text');
      break;
    case 'close':
      if (from === 'closed') throw new TransitionError('alert is already closed');
      if (!req.closeReason || !(CLOSE_REASONS as readonly string[]).includes(req.closeReason)) {
        throw new TransitionError(`close needs a closeReason, one of ${CLOSE_REASONS.join(' / ')}`);
      }
      to = 'closed';
      next.closeReason = req.closeReason;
      break;
    case 'reopen':
      if (from !== 'closed') throw new TransitionError(`cannot reopen an alert that is ${from}`);
      to = 'acknowledged';
      next.closeReason = undefined;
      break;
  }
  const at = now.toISOString();
  next.status = to;
  next.version = alert.version + 1;
  next.updatedAt = at;
  next.history = [
    ...alert.history,
    {
      at,
      action: req.action,
      actor: req.actor,
      ...(req.note ? { note: req.note } : {}),
      ...(to !== from ? { from, to } : {}),
      ...(req.action === 'assign' ? { note: [req.note, `指派给 ${next.assignee}`].filter(Boolean).join('；') } : {}),
      ...(req.action === 'close' ? { note: [req.closeReason, req.note].filter(Boolean).join('；') } : {}),
    },
  ];
  return next;
}
