import { describe, it, expect } from 'vitest';
import { loadRoutes } from '../../src/config/routes.ts';
import { resolveRecipients, regionChain } from '../../src/alerts/routing.ts';
import { alert } from './fixtures.ts';

const routes = loadRoutes('rules/routes.yaml', { YUDU_DINGTALK_TOKEN: 't', YUDU_DINGTALK_SECRET: 's' });
const who = (over: Parameters<typeof alert>[0]) => resolveRecipients(alert(over), routes).map((r) => `${r.tier}:${r.office.id}`);

describe('resolveRecipients', () => {
  it('红 in 于都县 goes to the county, 赣州 city and the provincial desk', () => {
    expect(who({ level: '红' })).toEqual(['county:yudu-county', 'city:ganzhou-city', 'province:jx-province']);
  });

  it('橙 goes to the county and its city', () => {
    expect(who({ level: '橙' })).toEqual(['county:yudu-county', 'city:ganzhou-city']);
  });

  it('黄 and 蓝 go to the county only', () => {
    expect(who({ level: '黄' })).toEqual(['county:yudu-county']);
    expect(who({ level: '蓝' })).toEqual(['county:yudu-county']);
  });

  it('a county without an office of its own is covered by its city, told once', () => {
    expect(who({ level: '黄', region: '360732', regions: ['360732'] })).toEqual(['city:ganzhou-city']);
    expect(who({ level: '橙', region: '360732', regions: ['360732'] })).toEqual(['city:ganzhou-city']);
  });

  it('a city-level alert goes to the city; 红 also to the province', () => {
    expect(who({ level: '红', region: '360100', regions: ['360100'] })).toEqual(['city:nanchang-city', 'province:jx-province']);
  });

  it('unknown, missing or out-of-province regions go to the provincial desk', () => {
    expect(who({ level: '黄', region: '', regions: [] })).toEqual(['province:jx-province']);
    expect(who({ level: '橙', region: '110105', regions: ['110105'] })).toEqual(['province:jx-province']);
    expect(who({ level: '黄', region: '360902', regions: ['360902'] })).toEqual(['province:jx-province']);
  });

  it('falls back to the first code in regions when region is empty', () => {
    expect(who({ level: '黄', region: '', regions: ['361128'] })).toEqual(['county:poyang-county']);
  });

  it('lists only enabled channels', () => {
    const [county, city] = resolveRecipients(alert({ level: '橙' }), routes);
    expect(county!.channels.map((c) => c.name)).toEqual(['yudu-county/dingtalk']);
    expect(city!.channels).toEqual([]);
  });

  it('regionChain follows the code structure', () => {
    expect(regionChain('360731')).toEqual({ county: '360731', city: '360700', province: '360000' });
    expect(regionChain('360700')).toEqual({ county: null, city: '360700', province: '360000' });
    expect(regionChain('x')).toEqual({ county: null, city: null, province: null });
  });
});
