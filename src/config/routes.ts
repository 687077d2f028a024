import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { LEVELS, type Level } from '../core/types.ts';
import { readYamlFile, validate, formatPath, type YamlFile } from './yaml.ts';

/*
 * rules/routes.yaml: which office hears about an alert, and through which channels. Offices are
 * keyed by GB/T 2260 code (a county, its city, the province); channels are nested per kind,
 * ElastAlert style (`- dingtalk: { url: …, secretEnv: … }`). Secrets never live in the file: a
 * robot's token is a `${ENV}` placeholder in its URL and its signing secret is named by
 * `secretEnv`; both are resolved from the environment at load. A channel whose variables are unset
 * is disabled with a warning, so the demo runs on a laptop without any secret.
 */

export const CHANNEL_KINDS = ['webhook', 'dingtalk', 'wecom', 'feishu'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export interface ChannelConfig {
  kind: ChannelKind;
  /** Stable name stored with each delivery: `<office id>/<kind>` (+ `#n` for a second of a kind, `~fallback`). */
  name: string;
  /** Resolved URL (tokens filled in). Never log it: it carries the robot token. */
  url: string;
  /** Resolved signing secret, when the channel signs. */
  secret?: string;
  enabled: boolean;
  /** Why the channel is disabled (names the missing variables, never values). */
  disabledReason?: string;
}

export interface Office {
  id: string;
  name: string;
  /** 6-digit GB/T 2260 code. */
  region: string;
  channels: ChannelConfig[];
  /** Channels used when a delivery to a primary channel is dead-lettered. */
  fallback: ChannelConfig[];
}

export interface EscalationPolicy {
  /** Minutes an alert may stay unacknowledged per level; a level left out never escalates. */
  afterMinutes: Partial<Record<Level, number>>;
  /** How many escalation steps at most (county → city → province, then reminders to the province). */
  maxSteps: number;
}

export const DEFAULT_ESCALATION: EscalationPolicy = {
  afterMinutes: { 红: 15, 橙: 60, 黄: 240 },
  maxSteps: 3,
};

export interface Routes {
  file: string;
  offices: Office[];
  escalation: EscalationPolicy;
  /** Channels disabled for missing environment variables, one line each, for the startup log. */
  warnings: string[];
}

const PLACEHOLDER = /\$\{([A-Z_][A-Z0-9_]*)\}/g;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const httpUrl = z.string().refine((s) => /^https?:\/\/\S+$/.test(s), 'must be an http(s) URL');
const envName = z.string().regex(ENV_NAME, 'must be an environment variable name (A–Z, 0–9, _)');

const ChannelOptions = {
  webhook: z.strictObject({ url: httpUrl, secretEnv: envName.optional() }),
  dingtalk: z.strictObject({ url: httpUrl, secretEnv: envName.optional() }),
  wecom: z.strictObject({ url: httpUrl }),
  feishu: z.strictObject({ url: httpUrl, secretEnv: envName.optional() }),
} satisfies Record<ChannelKind, z.ZodType>;

/** Where each robot keeps its token in the URL: it must be a ${ENV} placeholder there. */
const TOKEN_IN_URL: Partial<Record<ChannelKind, { where: string; pattern: RegExp }>> = {
  dingtalk: { where: 'access_token', pattern: /[?&]access_token=([^&]*)/ },
  wecom: { where: 'key', pattern: /[?&]key=([^&]*)/ },
  feishu: { where: 'the hook path', pattern: /\/hook\/([^/?]*)/ },
};

const Minutes = z.number().int().positive();
const RoutesSchema = z.strictObject({
  offices: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
        name: z.string().min(1),
        region: z.string().regex(/^\d{6}$/, 'must be a 6-digit GB/T 2260 code in quotes, e.g. \'360731\''),
        channels: z.array(z.unknown()).default([]),
        fallback: z.array(z.unknown()).default([]),
      }),
    )
    .min(1),
  escalation: z
    .strictObject({
      after_minutes: z
        .strictObject({ 红: Minutes.optional(), 橙: Minutes.optional(), 黄: Minutes.optional(), 蓝: Minutes.optional() })
        .optional(),
      max_steps: z.number().int().min(1).max(10).optional(),
    })
    .optional(),
});

export type Env = Record<string, string | undefined>;

function channelAt(y: YamlFile, raw: unknown, path: PropertyKey[], base: string, env: Env, warnings: string[]): ChannelConfig {
  const fail = (p: PropertyKey[], problem: string): never => {
    throw new ConfigError(y.file, formatPath(p), problem, y.lineOf(p));
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail(path, `a channel is one kind with its options, e.g. "- dingtalk: { url: … }"`);
  }
  const keys = Object.keys(raw as object);
  if (keys.length !== 1) fail(path, `a channel names exactly one kind (${CHANNEL_KINDS.join(', ')}), got ${keys.length}`);
  const kind = keys[0]!;
  if (!(CHANNEL_KINDS as readonly string[]).includes(kind)) {
    fail([...path, kind], `unknown channel kind '${kind}': expected one of ${CHANNEL_KINDS.join(', ')}`);
  }
  const k = kind as ChannelKind;
  const opts = validate(y, ChannelOptions[k] as z.ZodType<{ url: string; secretEnv?: string }>, (raw as Record<string, unknown>)[k] ?? undefined, [...path, k]);

  const token = TOKEN_IN_URL[k];
  if (token) {
    const m = token.pattern.exec(opts.url);
    if (!m || !/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(m[1]!)) {
      fail([...path, k, 'url'], `the robot token (${token.where}) must be a \${ENV} placeholder, never written in the file`);
    }
  }
  const missing: string[] = [];
  const url = opts.url.replace(PLACEHOLDER, (_, name: string) => {
    const v = env[name];
    if (!v) missing.push(name);
    return encodeURIComponent(v ?? '');
  });
  let secret: string | undefined;
  if (opts.secretEnv) {
    secret = env[opts.secretEnv];
    if (!secret) missing.push(opts.secretEnv);
  }
  const channel: ChannelConfig = { kind: k, name: base, url, enabled: missing.length === 0 };
  if (secret) channel.secret = secret;
  if (missing.length) {
    channel.disabledReason = `环境变量未设置：${missing.join(', ')}`;
    warnings.push(`${y.file}: channel ${base} disabled: environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set`);
  }
  return channel;
}

/** Parses and validates routes.yaml text; `env` supplies the ${ENV} and secretEnv values. */
export function parseRoutes(text: string, file = 'rules/routes.yaml', env: Env = process.env): Routes {
  const y = readYamlFile(file, text);
  const data = validate(y, RoutesSchema, y.value ?? {});
  const warnings: string[] = [];
  const seenIds = new Map<string, number>();
  const seenRegions = new Map<string, string>();
  const offices: Office[] = data.offices.map((o, i) => {
    const at = (...p: PropertyKey[]) => ['offices', i, ...p];
    if (seenIds.has(o.id)) {
      throw new ConfigError(file, formatPath(at('id')), `duplicate office id '${o.id}'`, y.lineOf(at('id')));
    }
    seenIds.set(o.id, i);
    const other = seenRegions.get(o.region);
    if (other) {
      throw new ConfigError(file, formatPath(at('region')), `region ${o.region} already belongs to office '${other}'`, y.lineOf(at('region')));
    }
    seenRegions.set(o.region, o.id);
    const names = new Map<string, number>();
    const build = (list: unknown[], key: 'channels' | 'fallback') =>
      list.map((raw, j) => {
        const kind = raw && typeof raw === 'object' ? Object.keys(raw)[0] ?? '?' : '?';
        const n = (names.get(`${key}/${kind}`) ?? 0) + 1;
        names.set(`${key}/${kind}`, n);
        const name = `${o.id}/${kind}${n > 1 ? `#${n}` : ''}${key === 'fallback' ? '~fallback' : ''}`;
        return channelAt(y, raw, at(key, j), name, env, warnings);
      });
    return { id: o.id, name: o.name, region: o.region, channels: build(o.channels, 'channels'), fallback: build(o.fallback, 'fallback') };
  });
  const esc = data.escalation;
  const afterMinutes: Partial<Record<Level, number>> = esc?.after_minutes ? {} : { ...DEFAULT_ESCALATION.afterMinutes };
  if (esc?.after_minutes) for (const l of LEVELS) if (esc.after_minutes[l] !== undefined) afterMinutes[l] = esc.after_minutes[l];
  return { file, offices, escalation: { afterMinutes, maxSteps: esc?.max_steps ?? DEFAULT_ESCALATION.maxSteps }, warnings };
}

/** Loads rules/routes.yaml (or another file); ConfigError names file:line:field on any mistake. */
export function loadRoutes(file: string, env: Env = process.env): Routes {
  return parseRoutes(readFileSync(file, 'utf8'), file, env);
}
