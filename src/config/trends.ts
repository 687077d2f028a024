import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ItemKind, Level } from '../core/types.ts';
import { ConfigError } from '../core/errors.ts';
import { readYamlFile, validate } from './yaml.ts';

/** `30m`, `6h`, `24h`, `7d` → milliseconds; whole hours only, so windows line up with hourly buckets. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+)\s*(h|d)$/.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n > 0 ? n * (m[2] === 'h' ? 3600_000 : 86_400_000) : null;
}

const Duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration in whole hours or days such as 24h or 7d, got '${s}'` });
    return z.NEVER;
  }
  return ms;
});

const list = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

/** Which items count; the same filters the desk's item search takes. */
const Filter = z
  .object({
    kind: list(ItemKind).optional(),
    category: list(z.string().min(1)).optional(),
    region: list(z.string().regex(/^\d{2,6}$/, 'expected a GB/T 2260 code such as 360102')).optional(),
    source: list(z.string().min(1)).optional(),
    risk: z.boolean().optional(),
  })
  .strict();

export const TREND_FIELDS = ['category', 'region', 'term', 'business', 'source', 'kind'] as const;

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and -'),
  name: z.string().min(1),
  description: z.string().optional(),
  filter: Filter.default({}),
  /** The level a signal from this rule carries on the desk. */
  level: Level.default('黄'),
};

const Frequency = z
  .object({
    ...common,
    type: z.literal('frequency'),
    /** Count per key of this field; absent = all matching items together. */
    group_by: z.enum(TREND_FIELDS).optional(),
    window: Duration,
    /** Fires when a key has at least this many items in the window. */
    threshold: z.number().int().min(1),
  })
  .strict();

const Spike = z
  .object({
    ...common,
    type: z.literal('spike'),
    group_by: z.enum(TREND_FIELDS),
    window: Duration,
    /** How many earlier windows of the same length form the baseline. */
    baseline_windows: z.number().int().min(2).max(60).default(7),
    /** EWMA smoothing of the baseline: larger follows recent windows more closely. */
    alpha: z.number().gt(0).lt(1).default(0.3),
    /** z-score the current count must reach when the baseline mean is large enough for it. */
    z: z.number().positive().default(3),
    /** Poisson upper-tail probability at or below which a small count fires. */
    p: z.number().gt(0).lt(1).default(0.001),
    /** Below this baseline mean the Poisson test decides instead of the z-score. */
    small_mean: z.number().positive().default(10),
    /** Current count must be at least this (small numbers never fire). */
    min_count: z.number().int().min(1).default(5),
    /** …and at least this multiple of the baseline mean (ElastAlert's spike_height). */
    ratio: z.number().min(1).default(2),
  })
  .strict();

const NewTerm = z
  .object({
    ...common,
    type: z.literal('new_term'),
    field: z.enum(['term', 'business']),
    window: Duration,
    /** How far back a key must be absent to count as new; default 30 days. */
    lookback: Duration.default(30 * 86_400_000),
    min_count: z.number().int().min(1).default(3),
  })
  .strict();

export const TrendRule = z.discriminatedUnion('type', [Frequency, Spike, NewTerm]);
export type TrendRule = z.infer<typeof TrendRule>;
export type FrequencyRule = z.infer<typeof Frequency>;
export type SpikeRule = z.infer<typeof Spike>;
export type NewTermRule = z.infer<typeof NewTerm>;
export type TrendFilter = z.infer<typeof Filter>;

const TYPES = ['frequency', 'spike', 'new_term'];

/** One rule file, validated; errors name file, line and field (an unknown `type` names the allowed ones). */
export function loadTrendRuleFile(file: string, text?: string): TrendRule {
  const y = readYamlFile(file, text);
  const v = y.value as { type?: unknown } | null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(file, '', 'a trend rule file holds one mapping (id, name, type, …)', 1);
  if (!TYPES.includes(String(v.type))) {
    throw new ConfigError(file, 'type', `unknown trend rule type '${String(v.type)}'; expected one of ${TYPES.join(', ')}`, y.lineOf(['type']));
  }
  return validate(y, TrendRule);
}

/** Every `*.yaml` in rules/trends (sorted); ids must be unique across files. A missing folder is no rules. */
export function loadTrendRules(dir: string): TrendRule[] {
  if (!existsSync(dir)) return [];
  const out: TrendRule[] = [];
  const ids = new Map<string, string>();
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = join(dir, f);
    const rule = loadTrendRuleFile(file);
    const dup = ids.get(rule.id);
    if (dup) throw new ConfigError(file, 'id', `duplicate trend rule id '${rule.id}' (also in ${dup})`, readYamlFile(file).lineOf(['id']));
    ids.set(rule.id, file);
    out.push(rule);
  }
  return out;
}
