// The region tree of the filter bar: three linked selects, province → city → county, filled one
// level at a time from GET /api/v1/regions (the GB/T 2260 tables the desk already names regions
// with). The filter is the most specific code chosen; the API matches a province or city code
// against everything under it.
import { el } from './dom.js';
import { getJson } from './api.js';
import { regionLevels } from './format.js';

const PLACEHOLDER = { province: '全部省份', city: '全部市', county: '全部县区' };

export function createRegionTree(root) {
  const selects = {
    province: root.querySelector('select[name=province]'),
    city: root.querySelector('select[name=city]'),
    county: root.querySelector('select[name=county]'),
  };
  const cache = new Map();

  async function children(parent) {
    if (!cache.has(parent)) {
      cache.set(
        parent,
        getJson(`/api/v1/regions${parent ? `?parent=${parent}` : ''}`).then((r) => (r.ok ? r.body.items : [])),
      );
    }
    return cache.get(parent);
  }

  function fill(level, items, selected) {
    const s = selects[level];
    s.replaceChildren(el('option', { value: '' }, PLACEHOLDER[level]), ...items.map((n) => el('option', { value: n.code }, n.name)));
    s.value = items.some((n) => n.code === selected) ? selected : '';
    s.disabled = items.length === 0;
  }

  function clear(level) {
    fill(level, [], '');
  }

  /** Shows `code` in the selects (loading the levels it needs); '' clears them. */
  async function set(code) {
    const want = regionLevels(code);
    fill('province', await children(''), want.province);
    if (want.province) fill('city', await children(want.province), want.city);
    else clear('city');
    if (want.city) fill('county', await children(want.city), want.county);
    else clear('county');
    root.dataset.ready = 'true';
  }

  function value() {
    return selects.county.value || selects.city.value || selects.province.value || '';
  }

  // A higher level changed: the lower ones empty at once (so the filter read right after is the
  // new choice), then fill with the new children.
  selects.province.addEventListener('change', () => {
    clear('city');
    clear('county');
    const p = selects.province.value;
    if (p) void children(p).then((items) => selects.province.value === p && fill('city', items, ''));
  });
  selects.city.addEventListener('change', () => {
    clear('county');
    const c = selects.city.value;
    if (c) void children(c).then((items) => selects.city.value === c && fill('county', items, ''));
  });

  return { set, value };
}
