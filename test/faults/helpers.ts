import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { itemId } from '../../src/core/ids.ts';
import type { Alert, RawItem, ScoredItem } from '../../src/core/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import pino from 'pino';
import { dataFile, startPipeline } from '../../src/pipeline/runner.ts';
import { DEFAULT_PIPELINE } from '../../src/cli/common.ts';
import { createSource } from '../../src/sources/registry.ts';
import { tempDir } from '../helpers/tmp.ts';

/**
 * Jepsen-style bookkeeping for the fault suite: every row a test hands to the system is recorded
 * here as it is accepted, and `checkStore` compares that history with what the store holds at
 * the end — nothing accepted missing, nothing stored twice, no item claimed by two incidents.
 */

export const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 3);
import { mulberry32 } from '../helpers/rng.ts';

export const BIN = resolve('bin/sentinel.js');
export const RULES = resolve('rules');

/** Deterministic PRNG, so a failing round can be replayed from its printed seed. */
export const rng = mulberry32;
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

// --- realistic hotline exports -------------------------------------------------------------

const PLACES = [
  { code: '360102', city: '南昌市东湖区', street: '八一大道' },
  { code: '360731', city: '赣州市于都县', street: '贡江镇人民路' },
  { code: '361102', city: '上饶市信州区', street: '中山路' },
  { code: '360983', city: '宜春市高安市', street: '瑞州街道团结路' },
  { code: '361002', city: '抚州市临川区', street: '解放路' },
  { code: '360403', city: '九江市浔阳区', street: '庐山北路' },
] as const;

const SHOPS = ['好又多超市', '一品鲜卤味', '香满园面包店', '老街米粉店', '鲜丰水果', '家家乐便利店', '金桥饭店', '阳光幼儿园食堂', '实验小学食堂', '鑫源农贸市场'];

/** Risky texts (the rules should raise some of these) and harmless ones (they should not). */
const RISKY = [
  (s: string, n: number) => `在${s}买的酸奶已经过期${n}天，孩子喝了以后肚子疼、腹泻，商家拒绝退款。`,
  (s: string, n: number) => `${s}卖的面包里面有霉点，吃了一口才发现，恶心呕吐了${n}次，要求查处。`,
  (s: string, n: number) => `孩子在${s}吃午饭，饭菜里吃出虫子，当天班上${n}个学生呕吐腹泻，已送医。`,
  (s: string, n: number) => `在${s}吃饭后全家${n}人上吐下泻，怀疑食物中毒，去医院挂了水。`,
  (s: string, n: number) => `${s}的卤牛肉发黏有酸味，明显变质，还在继续卖，买了${n}斤。`,
  (s: string, n: number) => `${s}后厨老鼠乱窜，餐具不消毒，员工没有健康证，已经看到${n}回了。`,
];
const HARMLESS = [
  (s: string, n: number) => `${s}会员卡充值${n}00元后门店说要装修，余额不给退。`,
  (s: string, n: number) => `${s}标价和结账价格不一致，多收了${n}元，要求退还差价。`,
  (s: string, n: number) => `咨询${s}营业执照办理流程，需要准备哪些材料，第${n}次来电。`,
  (s: string, n: number) => `${s}门口占道经营，晚上噪音大，影响休息，已经持续${n}天。`,
];

export interface HotlineRow {
  登记编号: string;
  登记时间: string;
  渠道: string;
  诉求类型: string;
  被投诉主体: string;
  地址: string;
  所属区域: string;
  商品或服务分类: string;
  诉求内容: string;
  处理状态: string;
}

export const HEADER: (keyof HotlineRow)[] = ['登记编号', '登记时间', '渠道', '诉求类型', '被投诉主体', '地址', '所属区域', '商品或服务分类', '诉求内容', '处理状态'];

/** `Date` as the hotline writes it: Beijing time, "YYYY-MM-DD HH:mm:ss". */
function chinaTime(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * A day's export: `count` rows with unique 登记编号 (the `batch` number keeps files apart) and
 * unique texts (a 小票号 per row), times in the last hours so the alert windows are live, some
 * texts quoted with commas and line breaks as real exports have them.
 */
export function hotlineRows(batch: number, count: number, seed: number, now = Date.now()): HotlineRow[] {
  const r = rng(seed);
  const rows: HotlineRow[] = [];
  for (let i = 0; i < count; i++) {
    const place = pick(r, PLACES);
    const shop = `${place.city.slice(3)}${pick(r, SHOPS)}`;
    const risky = r() < 0.35;
    let text = (risky ? pick(r, RISKY) : pick(r, HARMLESS))(shop, int(r, 2, 9));
    text += `（小票号${batch}-${String(i).padStart(4, '0')}）`;
    if (r() < 0.1) text += '\n补充：商家电话一直打不通，请尽快处理，谢谢！';
    rows.push({
      登记编号: `${place.code}2026${String(batch).padStart(4, '0')}${String(i).padStart(5, '0')}`,
      登记时间: chinaTime(now - int(r, 60, 20 * 3600) * 1000),
      渠道: pick(r, ['12315平台', '12315热线', '12345转办']),
      诉求类型: risky ? pick(r, ['投诉', '举报']) : pick(r, ['投诉', '咨询']),
      被投诉主体: shop,
      地址: `江西省${place.city}${place.street}${int(r, 1, 400)}号`,
      所属区域: place.code,
      商品或服务分类: risky ? pick(r, ['一般食品', '餐饮服务', '特殊食品']) : pick(r, ['一般食品', '餐饮服务', '其他服务']),
      诉求内容: text,
      处理状态: pick(r, ['待受理', '已受理', '调解中']),
    });
  }
  return rows;
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(rows: readonly Record<string, string>[], header: readonly string[] = HEADER): string {
  return '\uFEFF' + [header.join(','), ...rows.map((row) => header.map((h) => csvCell(row[h] ?? '')).join(','))].join('\r\n') + '\r\n';
}

export function writeCsv(file: string, rows: readonly HotlineRow[]): void {
  writeFileSync(file, toCsv(rows as unknown as Record<string, string>[]));
}

// --- the history of accepted input -----------------------------------------------------------

export class History {
  /** item id → the body text the sender gave for it */
  readonly accepted = new Map<string, string>();
  accept(sourceId: string, rows: readonly HotlineRow[]): void {
    for (const row of rows) this.accepted.set(itemId(sourceId, row.登记编号), row.诉求内容.trim());
  }
}

// --- reading the store back ------------------------------------------------------------------

export interface StoreContents {
  items: ScoredItem[];
  alerts: Alert[];
  /** how many rows the items table holds, counted directly (not through the store's paging) */
  rowCount: number;
}

/** Opens the data file read-only, as an auditor would, and reads every item and alert. */
export async function readStore(dbFile: string): Promise<StoreContents> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const store = new SqliteStore(db, { tokenize: (t) => [t], ownsDb: false });
    const items: ScoredItem[] = [];
    const alerts: Alert[] = [];
    for (let offset = 0; ; offset += 500) {
      const p = await store.searchItems({ limit: 500, offset });
      items.push(...p.items);
      if (offset + 500 >= p.total) break;
    }
    for (let offset = 0; ; offset += 500) {
      const p = await store.searchAlerts({ limit: 500, offset });
      alerts.push(...p.items);
      if (offset + 500 >= p.total) break;
    }
    const { n } = db.prepare('SELECT count(*) AS n FROM items').get() as { n: number };
    return { items, alerts, rowCount: n };
  } finally {
    db.close();
  }
}

export interface Verdict {
  accepted: number;
  found: number;
  missing: string[];
  duplicateIds: number;
  duplicateBodies: number;
  /** items claimed by more than one incident alert */
  sharedItems: string[];
  incidentAlerts: number;
}

/**
 * Live incident alerts: those raised from items. Repeat-complaint (`biz:`) and source-outage
 * (`sys-`) alerts aggregate by design, and an alert folded into another (`mergedInto`) keeps its
 * items only as a record of what it was.
 */
export const isIncident = (a: Alert) => !a.id.startsWith('biz:') && !a.id.startsWith('sys-') && !a.mergedInto;

/** Compares the store with the history; the caller asserts on the verdict (and prints it for the report). */
export function judge(history: History, contents: StoreContents): Verdict {
  const ids = contents.items.map((i) => i.id);
  const idSet = new Set(ids);
  const bodies = contents.items.map((i) => i.body.trim());
  const missing = [...history.accepted.keys()].filter((id) => !idSet.has(id));
  const claimed = new Map<string, number>();
  const incidents = contents.alerts.filter(isIncident);
  for (const a of incidents) for (const id of new Set(a.itemIds)) claimed.set(id, (claimed.get(id) ?? 0) + 1);
  return {
    accepted: history.accepted.size,
    found: contents.items.filter((i) => history.accepted.has(i.id)).length,
    missing,
    duplicateIds: ids.length - idSet.size + (contents.rowCount - ids.length),
    duplicateBodies: bodies.length - new Set(bodies).size,
    sharedItems: [...claimed].filter(([, n]) => n > 1).map(([id]) => id),
    incidentAlerts: incidents.length,
  };
}

/**
 * The Jepsen verdict as assertions, with the store's body for each accepted id compared too.
 * `baseline` is the same input run undisturbed: items it already shows in two live incident
 * alerts are an alerts-stage matter, not a fault's doing (see restart.test.ts), so only sharing
 * beyond it fails here.
 */
export function expectExactlyOnce(history: History, contents: StoreContents, label: string, baseline?: StoreContents): Verdict {
  const v = judge(history, contents);
  if (baseline) {
    const before = new Set(judge(history, baseline).sharedItems);
    v.sharedItems = v.sharedItems.filter((id) => !before.has(id));
  }
  const byId = new Map(contents.items.map((i) => [i.id, i.body.trim()]));
  const wrongBody = [...history.accepted].filter(([id, body]) => byId.has(id) && byId.get(id) !== body).map(([id]) => id);
  expect(v.missing, `${label}: accepted items missing from the store`).toEqual([]);
  expect(v.duplicateIds, `${label}: items stored twice under one id`).toBe(0);
  expect(v.duplicateBodies, `${label}: one complaint text stored twice`).toBe(0);
  expect(wrongBody, `${label}: items whose stored text differs from what was sent`).toEqual([]);
  expect(v.sharedItems, `${label}: items claimed by two incident alerts`).toEqual([]);
  expect(v.found).toBe(v.accepted);
  // every alert points at stored items only
  const dangling = contents.alerts.flatMap((a) => a.itemIds.filter((id) => !byId.has(id)));
  expect(dangling, `${label}: alerts naming items the store does not hold`).toEqual([]);
  return v;
}

/** One row of the closing table, printed so a CI log carries it. */
export function report(fault: string, rounds: number, v: Verdict, outcome: string): void {
  process.stdout.write(
    `[faults] ${fault} | rounds ${rounds} | accepted ${v.accepted} | found ${v.found} | duplicates ${v.duplicateIds + v.duplicateBodies} | shared ${v.sharedItems.length} | incident alerts ${v.incidentAlerts} | ${outcome}\n`,
  );
}

/** The same batches through an undisturbed in-process pipeline (the default one, as the CLI runs it). */
export async function undisturbed(batches: readonly RawItem[][]): Promise<StoreContents> {
  const t = tempDir('sentinel-faults-ref-');
  try {
    const running = await startPipeline({ pipelineFile: DEFAULT_PIPELINE, roles: ['process', 'alerts'], dataDir: t.dir, log: pino({ level: 'silent' }) });
    try {
      for (const b of batches) {
        await running.ingest(b);
        await running.drained();
      }
    } finally {
      await running.stop();
    }
    return await readStore(dataFile(t.dir));
  } finally {
    t.cleanup();
  }
}

/** A hotline file read as the CLI reads it. */
export async function readHotline(file: string, sourceId: string): Promise<RawItem[]> {
  const source = createSource({ id: sourceId, type: 'hotline', path: file }, { file: '(test)', path: 'faults' });
  return source.poll({ signal: AbortSignal.timeout(60_000), now: () => new Date(), baseDir: process.cwd() });
}

// --- child processes -------------------------------------------------------------------------

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** resolves with the exit code (null when killed by a signal) and the signal */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** resolves when stderr has shown `pattern` (a pino log line), rejects if the process exits first */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
}

export function sentinel(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => {
      for (const l of listeners) l();
      res({ code, signal });
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((res, rej) => {
      const timer = setTimeout(() => done(new Error(`no ${pattern} in stderr within ${timeoutMs} ms:\n${err.slice(-2000)}`)), timeoutMs);
      const check = () => {
        if (pattern.test(err)) done();
        else if (proc.exitCode !== null || proc.signalCode !== null) done(new Error(`process exited before ${pattern}:\n${err.slice(-2000)}`));
      };
      const done = (e?: Error) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (e) rej(e);
        else res();
      };
      listeners.add(check);
      check();
    });
  return { proc, stdout: () => out, stderr: () => err, exited, waitFor };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pipeline with one hotline drop folder polled every second, over a copy of the bundled rules. */
export function dropPipeline(dir: string, sourceId: string): { file: string; drop: string } {
  const rules = join(dir, 'rules');
  if (!existsSync(rules)) cpSync(RULES, rules, { recursive: true });
  const drop = join(dir, 'drop');
  mkdirSync(drop, { recursive: true });
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    [
      'name: 故障注入测试',
      "province: '360000'",
      'rules: ./rules',
      'sources:',
      `  - id: ${sourceId}`,
      '    type: hotline',
      '    path: ./drop',
      '    kind: complaint',
      '    every: 1s',
      'alerts:',
      '  minLevel: 黄',
      '',
    ].join('\n'),
  );
  return { file, drop };
}

/** The pragmas a data file carries and a fresh connection reads back (journal mode persists in the file). */
export function filePragmas(dbFile: string): { journal: string; integrity: string } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return {
      journal: String(db.pragma('journal_mode', { simple: true })),
      integrity: String(db.pragma('integrity_check', { simple: true })),
    };
  } finally {
    db.close();
  }
}
