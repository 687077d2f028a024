import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, '../..');
export const SHIPPED_RULES_DIR = join(ROOT, 'rules');
/**
 * The rules every figure uses: run.ts copies rules/ once at the start of a run and points its
 * children here, so all figures of one run (and a latency figure's expected alerts and its
 * pipeline) score against the same rules even while someone edits rules/.
 */
export const RULES_DIR = process.env.BENCH_RULES_DIR ?? SHIPPED_RULES_DIR;
export const PIPELINE_TEMPLATE = join(BENCH_DIR, 'pipeline.yaml');

/** What every figure gets from run.ts. */
export interface BenchContext {
  quick: boolean;
  /** --items: size of the corpus for figures 1–3 (and the base of 8's rule series). */
  items: number;
  seed: number;
  /** A temp folder for this run; figures keep their data under it (search reads memory's store). */
  tmp: string;
  log: (msg: string) => void;
}

/** A figure's result: flat numbers (and a few strings) that go into the JSON object as they are. */
export type Figures = Record<string, number | string | null | (number | string | null)[] | Record<string, unknown>>;

export type FigureFn = (ctx: BenchContext) => Promise<Figures>;

/** pino at 'silent': the pipeline's own info logs would otherwise cost time in the figures. */
export const silentLog = pino({ level: 'silent' });

export const now = (): number => performance.now();

export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(values: number[]): { n: number; p50: number | null; p95: number | null; p99: number | null; max: number | null } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : null };
}

export const rssMb = (): number => process.memoryUsage().rss / 1_048_576;

export const round = (n: number | null | undefined, digits = 1): number | null =>
  n == null || !Number.isFinite(n) ? null : Math.round(n * 10 ** digits) / 10 ** digits;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Writes a runnable copy of test/bench/pipeline.yaml into `dir`: the rules folder made absolute
 * (or replaced by a generated variant) and the hotline source pointed at an empty drop folder, so
 * an `ingest` role would poll nothing. The template itself stays valid in place.
 */
export function materialisePipeline(dir: string, opts: { rulesDir?: string; segmenter?: string } = {}): string {
  mkdirSync(dir, { recursive: true });
  const drop = join(dir, 'drop');
  mkdirSync(drop, { recursive: true });
  const doc = parseYaml(readFileSync(PIPELINE_TEMPLATE, 'utf8')) as Record<string, unknown> & { sources: Record<string, unknown>[] };
  doc.rules = opts.rulesDir ?? RULES_DIR;
  if (opts.segmenter) doc.segmenter = opts.segmenter;
  doc.sources = doc.sources.map((s) => (s.type === 'hotline' ? { ...s, path: drop } : s));
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, stringifyYaml(doc));
  return file;
}

export function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu_model: cpu[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    total_mem_mb: Math.round(totalmem() / 1_048_576),
  };
}

/** Runs `fn` over items, returning elapsed ms; `warm` items run first untimed so the JIT is warm. */
export function timeLoop<T>(items: readonly T[], fn: (x: T) => unknown, warm = 0): number {
  for (let i = 0; i < Math.min(warm, items.length); i++) fn(items[i]!);
  const t = now();
  for (const x of items) fn(x);
  return now() - t;
}
