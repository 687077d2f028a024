import { describe, it, expect } from 'vitest';
import { isSilenced, silencedBy, parseSilence, type Silence } from '../../src/alerts/silences.ts';
import { alert } from './fixtures.ts';

const now = Date.parse('2026-11-27T06:00:00.000Z');
const silence = (over: Partial<Silence> = {}): Silence =>
  parseSilence({
    id: 's1',
    category: '校园食品安全',
    region: '360731',
    until: '2026-11-27T08:00:00.000Z',
    reason: '县局已在现场处置，避免重复推送',
    createdBy: '值班员张伟',
    createdAt: '2026-11-27T05:00:00.000Z',
    ...over,
  });

describe('silences', () => {
  it('mutes an alert of the category in the region until it expires by itself', () => {
    const s = [silence()];
    expect(silencedBy(alert(), s, now)).toBe(s[0]);
    expect(isSilenced(alert(), s, Date.parse('2026-11-27T08:00:00.000Z'))).toBe(false);
    expect(isSilenced(alert(), s, Date.parse('2026-11-27T04:59:00.000Z'))).toBe(false);
  });

  it('a city silence covers its counties; a county silence does not cover its neighbour', () => {
    expect(isSilenced(alert({ region: '360732', regions: ['360732'] }), [silence({ region: '360700' })], now)).toBe(true);
    expect(isSilenced(alert({ region: '360732', regions: ['360732'] }), [silence()], now)).toBe(false);
  });

  it('matches a rule silence against the rules behind the alert', () => {
    const s = [silence({ category: undefined, rule: 'school-food-safety' })];
    expect(isSilenced(alert(), s, now, ['school-food-safety'])).toBe(true);
    expect(isSilenced(alert(), s, now, ['catering-service'])).toBe(false);
    expect(isSilenced(alert(), s, now)).toBe(false);
  });

  it('other categories and alerts without a region are not muted', () => {
    expect(isSilenced(alert({ category: '餐饮服务' }), [silence()], now)).toBe(false);
    expect(isSilenced(alert({ region: '', regions: [] }), [silence()], now)).toBe(false);
  });

  it('a silence without a reason, without a rule or category, or ending before it starts is invalid', () => {
    expect(() => silence({ reason: '' })).toThrow(/reason|静默原因/);
    expect(() => silence({ reason: '  ' })).toThrow();
    expect(() => silence({ category: undefined })).toThrow(/rule or a category/);
    expect(() => silence({ until: '2026-11-27T04:00:00.000Z' })).toThrow(/after createdAt/);
    expect(() => silence({ region: '于都县' })).toThrow(/6-digit/);
  });
});
