import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CLOSE_REASONS as PAGE_CLOSE_REASONS,
  actionErrorMessage,
  allowedActions,
  apiQuery,
  explanationRows,
  filtersFromSearch,
  levelThresholds,
  regionLevels,
  filtersToSearch,
  highlightSegments,
  relativeTime,
  safeHttpUrl,
} from '../../src/desk/ui/format.js';
import { applyTransition, CLOSE_REASONS } from '../../src/store/workflow.ts';
import { ALERT_ACTIONS, ALERT_STATUSES } from '../../src/core/types.ts';
import { AlertQuery } from '../../src/core/query.ts';
import { AlertListQuery } from '../../src/desk/api.ts';
import { canteenAlert, canteenNews } from './fixtures.ts';

describe('relativeTime', () => {
  const now = Date.parse('2026-11-29T10:00:00+08:00');
  it.each([
    ['2026-11-29T09:59:30+08:00', '刚刚'],
    ['2026-11-29T09:57:00+08:00', '3分钟前'],
    ['2026-11-29T08:00:00+08:00', '2小时前'],
    ['2026-11-27T09:00:00+08:00', '2天前'],
    ['2026-11-29T10:05:00+08:00', '刚刚'],
  ])('%s reads %s', (iso, expected) => {
    expect(relativeTime(iso, now)).toBe(expected);
  });

  it('shows the date beyond a month and nothing for a broken timestamp', () => {
    expect(relativeTime('2026-09-01T12:00:00+08:00', now)).toMatch(/^2026-09-0[12]$/);
    expect(relativeTime('not a date', now)).toBe('');
  });
});

describe('highlightSegments', () => {
  it('marks each hit of a real item at its offsets', () => {
    const segs = highlightSegments(canteenNews.text, canteenNews.hits);
    const marked = segs.filter((s) => s.hit).map((s) => s.text);
    expect(marked).toEqual(['小学', '呕吐', '学校食堂', '送医']);
    expect(segs.map((s) => s.text).join('')).toBe(canteenNews.text);
  });

  it('clips overlapping hits and drops hits outside the text', () => {
    const text = '学校食堂饭菜变质';
    const segs = highlightSegments(text, [
      { start: 0, end: 4 }, // 学校食堂
      { start: 2, end: 4 }, // 食堂, inside the first
      { start: 3, end: 6 }, // 堂饭菜, overlaps the first
      { start: 6, end: 99 }, // past the end after re-normalising
      { start: -1, end: 2 },
    ]);
    expect(segs.map((s) => [s.text, Boolean(s.hit)])).toEqual([
      ['学校食堂', true],
      ['饭菜', true],
      ['变质', false],
    ]);
  });

  it('always rebuilds exactly the text, whatever the hits', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.array(fc.record({ start: fc.integer({ min: -5, max: 45 }), end: fc.integer({ min: -5, max: 45 }) }), { maxLength: 8 }),
        (text, hits) => {
          const segs = highlightSegments(text, hits);
          expect(segs.map((s) => s.text).join('')).toBe(text);
          for (const s of segs) if (s.hit) expect(s.text.length).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe('filters in the URL', () => {
  it('round-trips the filter state through the query string', () => {
    const f = {
      level: ['红', '橙'],
      category: '校园集中供餐',
      status: 'new,acknowledged,assigned',
      q: '食物中毒 幼儿园',
      region: '360100',
      kind: 'complaint',
      from: '2026-11-28T08:00',
      to: '',
      offset: 50,
      alert: 'a-canteen',
    };
    expect(filtersFromSearch(filtersToSearch(f))).toEqual(f);
  });

  it('ignores unknown levels and junk offsets from a hand-edited URL', () => {
    const f = filtersFromSearch('?level=红,紫&offset=-3&foo=1');
    expect(f.level).toEqual(['红']);
    expect(f.offset).toBe(0);
    expect(filtersToSearch(filtersFromSearch(''))).toBe('');
  });

  it('keeps a region code and known source kinds from the URL and drops junk', () => {
    expect(filtersFromSearch('?region=360702&kind=complaint,notice')).toMatchObject({ region: '360702', kind: 'complaint,notice' });
    expect(filtersFromSearch('?region=江西&kind=weibo,news')).toMatchObject({ region: '', kind: 'news' });
  });

  it('sends region and kind to the alert list, which accepts them', () => {
    const f = filtersFromSearch('?region=360100&kind=complaint');
    const parsed = AlertListQuery.parse(Object.fromEntries(new URLSearchParams(apiQuery(f, 50))));
    expect(parsed).toMatchObject({ region: ['360100'], kind: ['complaint'] });
  });

  it('builds an API query the server schema accepts, with local times as ISO instants', () => {
    const f = filtersFromSearch(`?level=红&category=${encodeURIComponent('餐饮服务')}&status=new&q=过期&from=2026-11-28T08:00&to=2026-11-29T08:00&offset=50&alert=a-x`);
    const params = new URLSearchParams(apiQuery(f, 50));
    expect(params.has('alert')).toBe(false); // page state, not a filter
    expect(params.get('from')).toBe(new Date('2026-11-28T08:00').toISOString());
    const parsed = AlertQuery.parse(Object.fromEntries(params));
    expect(parsed).toMatchObject({ level: ['红'], category: ['餐饮服务'], status: ['new'], q: '过期', limit: 50, offset: 50 });
  });
});

describe('safeHttpUrl', () => {
  it('keeps http(s) links and refuses script and data URLs', () => {
    expect(safeHttpUrl('https://news.example.cn/a?b=1')).toBe('https://news.example.cn/a?b=1');
    expect(safeHttpUrl('javascript:alert(1)')).toBeNull();
    expect(safeHttpUrl('JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeHttpUrl('data:text/html,<script>1</script>')).toBeNull();
    expect(safeHttpUrl('/relative')).toBeNull();
    expect(safeHttpUrl(undefined)).toBeNull();
  });
});

describe('the buttons agree with the workflow', () => {
  it('enables exactly the actions the store would accept', () => {
    for (const status of ALERT_STATUSES) {
      const can = allowedActions(status);
      for (const action of ALERT_ACTIONS) {
        const req = { action, actor: 't', assignee: '东湖区局', note: '备注', closeReason: '已处置' };
        let accepted = true;
        try {
          applyTransition({ ...canteenAlert, status }, req, new Date());
        } catch {
          accepted = false;
        }
        expect(can[action], `${action} on ${status}`).toBe(accepted);
      }
    }
  });

  it('offers the same disposal results the store accepts', () => {
    expect(PAGE_CLOSE_REASONS).toEqual([...CLOSE_REASONS]);
  });

  it('says a conflict in Chinese', () => {
    expect(actionErrorMessage(409, { error: 'changed' })).toBe('该预警已被他人更新，请刷新后重试');
    expect(actionErrorMessage(422, { error: 'cannot acknowledge' })).toContain('cannot acknowledge');
  });
});

describe('region tree levels', () => {
  it('places a code under its province and city', () => {
    expect(regionLevels('360102')).toEqual({ province: '360000', city: '360100', county: '360102' });
    expect(regionLevels('360100')).toEqual({ province: '360000', city: '360100', county: '' });
    expect(regionLevels('360000')).toEqual({ province: '360000', city: '', county: '' });
    expect(regionLevels('')).toEqual({ province: '', city: '', county: '' });
    expect(regionLevels('3601')).toEqual({ province: '', city: '', county: '' });
  });
});

describe('rules page helpers', () => {
  it('writes level thresholds most severe first and skips missing levels', () => {
    expect(levelThresholds({ 黄: 6, 红: 14, 橙: 10 })).toBe('红 ≥ 14 · 橙 ≥ 10 · 黄 ≥ 6');
    expect(levelThresholds({ 橙: 8 })).toBe('橙 ≥ 8');
    expect(levelThresholds({})).toBe('—');
  });

  it('lists matched rules first, then near misses by what they would have scored, and drops rules that saw nothing', () => {
    const rows = explanationRows([
      { rule: 'quiet', matched: false, score: 0, potential: 0, groups: [{ terms: [] }] },
      { rule: 'near', matched: false, score: 0, potential: 7, groups: [{ terms: ['过期'] }] },
      { rule: 'weak', matched: true, score: 6, groups: [{ terms: ['异物'] }] },
      { rule: 'strong', matched: true, score: 15, groups: [{ terms: ['呕吐'] }] },
      { rule: 'nearer', matched: false, score: 0, potential: 9, groups: [{ terms: ['腹泻'] }] },
    ]);
    expect(rows.map((r) => r.rule)).toEqual(['strong', 'weak', 'nearer', 'near']);
  });
});
