import { describe, it, expect } from 'vitest';
import { dueEscalations, nextEscalationAt, ESCALATE_ACTION } from '../../src/alerts/escalation.ts';
import { DEFAULT_ESCALATION } from '../../src/config/routes.ts';
import type { Alert } from '../../src/core/types.ts';
import { alert } from './fixtures.ts';

const created = Date.parse('2026-11-27T04:02:00.000Z');
const at = (min: number) => created + min * 60_000;
const apply = (a: Alert, now: number): Alert => {
  const steps = dueEscalations(a, now);
  return { ...a, history: [...a.history, ...steps.map((s) => s.history)] };
};

describe('dueEscalations', () => {
  it('红 unacknowledged for 15 minutes escalates to the city, then the province, then reminds the province', () => {
    const a = alert({ level: '红' });
    expect(dueEscalations(a, at(14))).toEqual([]);
    const [s1] = dueEscalations(a, at(15));
    expect(s1).toMatchObject({ id: `${a.id}:escalate:1`, step: 1, tier: 'city', minutes: 15, attention: true });
    expect(s1!.history).toMatchObject({ action: ESCALATE_ACTION, actor: 'sentinel', note: '红色预警15分钟未确认，升级通知市局' });
    expect(s1!.dueAt).toBe(new Date(at(15)).toISOString());
    const a1 = apply(a, at(15));
    expect(dueEscalations(a1, at(29))).toEqual([]);
    const [s2] = dueEscalations(a1, at(30));
    expect(s2).toMatchObject({ step: 2, tier: 'province' });
    expect(s2!.history.note).toBe('红色预警30分钟未确认，升级通知省局');
    const a2 = apply(a1, at(30));
    expect(dueEscalations(a2, at(45))[0]!.history.note).toBe('红色预警45分钟未确认，再次通知省局');
    const a3 = apply(a2, at(45));
    expect(dueEscalations(a3, at(600))).toEqual([]);
  });

  it('applies each step once: steps already in the history are not returned again', () => {
    const a = apply(alert({ level: '红' }), at(16));
    expect(dueEscalations(a, at(16))).toEqual([]);
  });

  it('a late timer returns every missed step at once, in order', () => {
    const steps = dueEscalations(alert({ level: '橙' }), at(130));
    expect(steps.map((s) => [s.step, s.tier, s.history.note])).toEqual([
      [1, 'city', '橙色预警1小时未确认，升级通知市局'],
      [2, 'province', '橙色预警2小时未确认，升级通知省局'],
    ]);
  });

  it('黄 waits 4 hours; 蓝 never escalates', () => {
    expect(dueEscalations(alert({ level: '黄' }), at(239))).toEqual([]);
    expect(dueEscalations(alert({ level: '黄' }), at(240))[0]!.history.note).toBe('黄色预警4小时未确认，升级通知市局');
    expect(dueEscalations(alert({ level: '蓝' }), at(100_000))).toEqual([]);
  });

  it('an acknowledged, assigned or closed alert does not escalate', () => {
    for (const status of ['acknowledged', 'assigned', 'closed'] as const) {
      expect(dueEscalations(alert({ status }), at(60))).toEqual([]);
    }
  });

  it('follows the policy from routes.yaml', () => {
    const policy = { afterMinutes: { 红: 5 }, maxSteps: 1 };
    expect(dueEscalations(alert({ level: '红' }), at(11), policy).map((s) => s.step)).toEqual([1]);
    expect(dueEscalations(alert({ level: '橙' }), at(1000), policy)).toEqual([]);
  });

  it('nextEscalationAt tells the timer when to look again', () => {
    expect(nextEscalationAt(alert({ level: '红' }))).toEqual(new Date(at(15)));
    expect(nextEscalationAt(apply(alert({ level: '红' }), at(15)))).toEqual(new Date(at(30)));
    expect(nextEscalationAt(alert({ level: '蓝' }))).toBeNull();
    expect(DEFAULT_ESCALATION.afterMinutes).toEqual({ 红: 15, 橙: 60, 黄: 240 });
  });
});
