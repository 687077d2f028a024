/*
 * `npm run bench [-- --quick] [-- --json] [-- --only a,b] [-- --items N]`
 *
 * Runs each figure in its own child process (same Node flags, so `node --cpu-prof` reaches them):
 * a figure's RSS is then its own, nodejieba's process-wide dictionary starts clean, and one
 * figure's garbage never slows the next. Ratios are computed here from the figures of this run.
 * Progress goes to stderr; stdout carries only the table, or with --json only the JSON object.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPLOYED_ENV, DEPLOYED_NODE_OPTIONS } from './deployed.ts';
import { type BenchContext, type FigureFn, type Figures, SHIPPED_RULES_DIR, machine, round } from './common.ts';
// Loaded lazily: a figure's child imports only its own figure, so its RSS and start-up are its own.
const FIGURES: Record<string, () => Promise<FigureFn>> = {
  segment: async () => (await import('./figures/segment.ts')).segmentFigure,
  process: async () => (await import('./figures/process.ts')).processFigure,
  e2e: async () => (await import('./figures/e2e.ts')).e2eFigure,
  latency: async () => (await import('./figures/latency.ts')).latencyFigure,
  memory: async () => (await import('./figures/memory.ts')).memoryFigure,
  search: async () => (await import('./figures/search.ts')).searchFigure,
  import: async () => (await import('./figures/import.ts')).importFigure,
  scaling: async () => (await import('./figures/scaling.ts')).scalingFigure,
  kafka: async () => (await import('./figures/kafka.ts')).kafkaFigure,
};
const ORDER = Object.keys(FIGURES);

interface Args {
  quick: boolean;
  json: boolean;
  only: string[];
  items: number | null;
  memoryItems: number | null;
  seed: number;
  keep: boolean;
}

const USAGE = `usage: npm run bench -- [--quick] [--json] [--only ${ORDER.join(',')}] [--items N] [--memory-items N] [--seed N] [--keep]`;

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, json: false, only: ORDER, items: null, memoryItems: null, seed: 20261129, keep: false };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!v || !Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got '${v ?? ''}'\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    if (f === '--quick') a.quick = true;
    else if (f === '--json') a.json = true;
    else if (f === '--keep') a.keep = true;
    else if (f === '--only') {
      const names = (argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !FIGURES[n]);
      if (!names.length || bad.length) throw new Error(`--only: unknown figure '${bad.join(', ')}'; expected some of ${ORDER.join(', ')}`);
      a.only = ORDER.filter((n) => names.includes(n));
    } else if (f === '--items') a.items = num(f, argv[++i]);
    else if (f === '--memory-items') a.memoryItems = num(f, argv[++i]);
    else if (f === '--seed') a.seed = num(f, argv[++i]);
    else if (f === '--help' || f === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else throw new Error(`unknown option '${f}'\n${USAGE}`);
  }
  return a;
}

type WorkerCtx = BenchContext & { memoryItems?: number };

/** Child side: run one figure, write its result to the file the parent named. */
async function worker(): Promise<void> {
  const name = process.env.BENCH_FIGURE!;
  const ctx = JSON.parse(process.env.BENCH_CTX!) as Omit<WorkerCtx, 'log'>;
  const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  const figure = await FIGURES[name]!();
  const result = await figure({ ...ctx, log } as WorkerCtx);
  writeFileSync(process.env.BENCH_OUT!, JSON.stringify(result));
  // better-sqlite3 handles and timers are closed by the figures; exit anyway so a stray handle cannot hang the run
  process.exit(0);
}

const PIPELINE_FIGURES = new Set(['e2e', 'latency', 'memory', 'search', 'import', 'kafka']);

function runChild(name: string, ctx: Omit<WorkerCtx, 'log'>): Promise<{ figures: Figures; seconds: number }> {
  const out = join(ctx.tmp, `${name}.result.json`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: {
        ...DEPLOYED_ENV,
        ...process.env,
        // the caller's own NODE_OPTIONS come last, so they win as they do in `npm start`
        ...(PIPELINE_FIGURES.has(name) ? { NODE_OPTIONS: `${DEPLOYED_NODE_OPTIONS} ${process.env['NODE_OPTIONS'] ?? ''}`.trim() } : {}),
        BENCH_FIGURE: name,
        BENCH_CTX: JSON.stringify(ctx),
        BENCH_OUT: out,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // the child's stdout is not ours to print: keep --json output clean
    child.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0) return reject(new Error(`figure '${name}' failed (exit ${code ?? signal})`));
      resolve({ figures: JSON.parse(readFileSync(out, 'utf8')) as Figures, seconds: round((Date.now() - started) / 1000, 1)! });
    });
  });
}

interface Goal {
  key: string;
  label: string;
  op: '>=' | '<';
  goal: number;
}
const GOALS: Goal[] = [
  { key: 'process_vs_segment', label: 'process ÷ segment (node-rs)', op: '>=', goal: 0.6 },
  { key: 'e2e_vs_segment', label: 'e2e ÷ segment (node-rs)', op: '>=', goal: 0.3 },
  { key: 'p99_item_to_alert_ms', label: 'item → alert p99 at 200/s', op: '<', goal: 1000 },
  { key: 'p99_alert_to_webhook_ms', label: 'alert → webhook p99', op: '<', goal: 2000 },
  { key: 'peak_rss_mb', label: 'peak RSS streaming', op: '<', goal: 512 },
  { key: 'search_p95_ms', label: 'desk search p95', op: '<', goal: 100 },
  { key: 'import_rows_per_s', label: 'hotline import', op: '>=', goal: 20_000 },
];

function judge(all: Figures): Record<string, { value: number | null; goal: string; pass: boolean | null }> {
  const out: Record<string, { value: number | null; goal: string; pass: boolean | null }> = {};
  for (const g of GOALS) {
    const v = all[g.key];
    const value = typeof v === 'number' ? v : null;
    out[g.key] = { value, goal: `${g.op} ${g.goal}`, pass: value == null ? null : g.op === '>=' ? value >= g.goal : value < g.goal };
  }
  return out;
}

function table(all: Figures, times: Record<string, number>, args: Args): string {
  const rows: [string, string, string, string][] = [];
  const f = (k: string, unit = ''): string => {
    const v = all[k];
    if (v == null) return '—';
    if (Array.isArray(v)) return v.join(' / ') + unit;
    return (typeof v === 'number' ? v.toLocaleString('en-US') : String(v)) + unit;
  };
  const goals = judge(all);
  const g = (k: string): [string, string] => {
    const j = goals[k];
    if (!j) return ['', ''];
    return [j.goal, j.pass == null ? 'n/a' : j.pass ? 'PASS' : 'MISS'];
  };
  const add = (label: string, value: string, key?: string) => rows.push([label, value, ...(key ? g(key) : ['', ''] as [string, string])]);
  const has = (name: string) => times[name] !== undefined;
  if (has('segment')) {
    add('1 segment node-rs (raw) items/s', f('segment_items_per_s_node_rs'));
    add('1 segment nodejieba (raw) items/s', f('segment_items_per_s_nodejieba'));
  }
  if (has('process')) {
    add('2 process node-rs items/s', f('process_items_per_s_node_rs'));
    add('2 process nodejieba items/s', f('process_items_per_s_nodejieba'));
    add('2   µs/item normalise·segment·regions·score·simhash', ['normalise', 'segment', 'regions', 'score', 'simhash'].map((s) => f(`process_step_us_${s}`)).join(' · '));
  }
  if (has('segment') && has('process')) {
    add('2 process ÷ segment node-rs', f('process_vs_segment'), 'process_vs_segment');
    add('2 process ÷ segment nodejieba', f('process_vs_segment_nodejieba'));
  }
  if (has('e2e')) add('3 e2e items/s (embedded, durable)', f('e2e_items_per_s'));
  if (has('e2e') && has('segment')) add('3 e2e ÷ segment node-rs', f('e2e_vs_segment'), 'e2e_vs_segment');
  if (has('latency')) {
    add(`4 item → alert p50 / p95 / p99 ms`, `${f('p50_item_to_alert_ms')} / ${f('p95_item_to_alert_ms')} / ${f('p99_item_to_alert_ms')}`, 'p99_item_to_alert_ms');
    add(`4 alert → webhook p50 / p95 / p99 ms`, `${f('p50_alert_to_webhook_ms')} / ${f('p95_alert_to_webhook_ms')} / ${f('p99_alert_to_webhook_ms')}`, 'p99_alert_to_webhook_ms');
    add('4   items seen in alerts / expected; webhooks / alerts', `${f('latency_items_seen_in_alerts')} / ${f('latency_items_expected_in_alerts')}; ${f('latency_webhooks_received')} / ${f('latency_alerts_expected')}`);
  }
  if (has('memory')) {
    add(`5 peak RSS MB (${f('memory_items')} items)`, f('peak_rss_mb'), 'peak_rss_mb');
    const marks = Object.keys(all).filter((k) => /^rss_at_.*_mb$/.test(k));
    add(`5   RSS MB at ${marks.map((k) => k.slice(7, -3)).join(' / ')}`, marks.map((k) => f(k)).join(' / '));
    add('5   e2e items/s over the stream', f('memory_e2e_items_per_s'));
  }
  if (has('search')) {
    add(`6 search p50 ms (${f('search_over_items')} items)`, f('search_p50_ms'));
    add('6 search p95 ms', f('search_p95_ms'), 'search_p95_ms');
    add('6   items p95 / alerts p95 ms', `${f('search_items_p95_ms')} / ${f('search_alerts_p95_ms')}`);
  }
  if (has('import')) add(`7 hotline import rows/s (${f('import_rows')} rows)`, f('import_rows_per_s'), 'import_rows_per_s');
  if (has('kafka')) {
    add('K Kafka: raw kafkajs produce+consume items/s', f('kafka_raw_items_per_s'));
    add('K Kafka: process stage on the Kafka bus items/s', f('kafka_process_items_per_s'));
    add('K Kafka: process stage ÷ raw kafkajs', f('kafka_process_vs_raw'));
  }
  if (has('scaling')) {
    add(`8 process items/s at ${f('scaling_sizes')} items`, f('scaling_process_items_per_s_by_size'));
    add(`8 process items/s with ${f('scaling_rule_counts')} rules (unique terms)`, f('scaling_process_items_per_s_by_rules'));
    add(`8 process items/s with ${f('scaling_rule_counts')} rules (shared vocab)`, f('scaling_process_items_per_s_by_rules_shared_vocab'));
  }
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => [...r[i]!].length), ['figure', 'value', 'goal', ''][i]!.length));
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - [...s].length));
  const m = all.machine as Record<string, unknown>;
  const head = `food-safety-sentinel bench — ${args.quick ? 'quick' : 'full'} run, seed ${args.seed}, ${m.cores} cores (${m.cpu_model}), Node ${m.node}, load avg ${m.load_avg_start} → ${m.load_avg_end}`;
  const lines = [head, '', [pad('figure', w[0]!), pad('value', w[1]!), pad('goal', w[2]!), 'status'].join('  ')];
  lines.push(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) lines.push(r.map((c, i) => pad(c, w[i]!)).join('  ').trimEnd());
  lines.push('', `seconds per figure: ${Object.entries(times).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tmp = mkdtempSync(join(tmpdir(), 'sentinel-bench-'));
  const rulesSnapshot = join(tmp, 'rules-snapshot');
  cpSync(SHIPPED_RULES_DIR, rulesSnapshot, { recursive: true });
  process.env.BENCH_RULES_DIR = rulesSnapshot;
  const ctx: Omit<WorkerCtx, 'log'> = {
    quick: args.quick,
    items: args.items ?? (args.quick ? 2_000 : 20_000),
    seed: args.seed,
    tmp,
    ...(args.memoryItems ? { memoryItems: args.memoryItems } : {}),
  };
  const all: Figures = {};
  const times: Record<string, number> = {};
  const started = Date.now();
  const loadStart = loadavg().map((l) => round(l, 2));
  process.stderr.write(`[bench] ${args.quick ? 'quick' : 'full'} run of ${args.only.join(', ')} in ${tmp}\n`);
  try {
    for (const name of args.only) {
      const { figures, seconds } = await runChild(name, ctx);
      Object.assign(all, figures);
      times[name] = seconds;
      process.stderr.write(`[bench] ${name} done in ${seconds} s\n`);
    }
  } finally {
    if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  }
  const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b, 3) : null);
  all.process_vs_segment = ratio(all.process_items_per_s_node_rs, all.segment_items_per_s_node_rs);
  all.process_vs_segment_nodejieba = ratio(all.process_items_per_s_nodejieba, all.segment_items_per_s_nodejieba);
  all.e2e_vs_segment = ratio(all.e2e_items_per_s, all.segment_items_per_s_node_rs);
  // Other work on the machine skews every figure; the load averages say how much there was.
  all.machine = { ...machine(), load_avg_start: loadStart.join(' '), load_avg_end: loadavg().map((l) => round(l, 2)).join(' ') };
  all.mode = args.quick ? 'quick' : 'full';
  all.seed = args.seed;
  all.corpus_items = ctx.items;
  all.figure_seconds = times;
  all.total_seconds = round((Date.now() - started) / 1000, 1);
  all.goals = judge(all);
  process.stdout.write(args.json ? JSON.stringify(all) + '\n' : table(all, times, args));
}

if (process.env.BENCH_FIGURE) {
  worker().catch((err) => {
    process.stderr.write(`[bench] figure ${process.env.BENCH_FIGURE} failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    process.stderr.write(`[bench] ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
