import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ItemKind, Level } from '../core/types.ts';
import { ConfigError } from '../core/errors.ts';
import { readYamlFile, validate, formatPath } from './yaml.ts';
import { createSource } from '../sources/registry.ts';
import type { Source } from '../sources/source.ts';

const PipelineTest = z
  .object({
    name: z.string().optional(),
    title: z.string().default(''),
    text: z.string().min(1),
    kind: ItemKind.default('news'),
    source: z.string().optional(),
    regionHint: z.string().optional(),
    expect: z
      .object({
        alert: z.boolean(),
        level: Level.optional(),
        category: z.string().optional(),
        regions: z.array(z.string()).optional(),
      })
      .strict(),
  })
  .strict();
export type PipelineTest = z.infer<typeof PipelineTest>;

const Webhook = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-_]*$/, 'lower-case letters, digits, - and _'),
    url: z.string().url(),
    /** Name of the environment variable holding the secret: secrets never live in pipeline files. */
    secretEnv: z.string().regex(/^[A-Z][A-Z0-9_]*$/).optional(),
  })
  .strict();

const PipelineSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** Home province (GB/T 2260): ambiguous place names prefer it. */
    province: z.string().regex(/^\d{2}0000$/, 'a province code such as 360000').default('360000'),
    /** Rules folder, relative to this file. */
    rules: z.string().default('../rules'),
    segmenter: z.enum(['node-rs', 'nodejieba']).default('node-rs'),
    /**
     * Worker threads for the process stage (segment and score); 0 runs it on the event loop.
     * One keeps the event loop free for storing, alerting and delivering; more use more cores.
     */
    process: z
      .object({ workers: z.number().int().min(0).max(32).default(1) })
      .strict()
      .default({ workers: 1 }),
    sources: z.array(z.unknown()).min(1, 'a pipeline needs at least one source'),
    alerts: z
      .object({ minLevel: Level.default('黄') })
      .strict()
      .default({ minLevel: '黄' }),
    notify: z
      .object({
        deskUrl: z.string().url().optional(),
        webhooks: z.array(Webhook).default([]),
      })
      .strict()
      .default({ webhooks: [] }),
    tests: z.array(PipelineTest).default([]),
  })
  .strict();

export interface Pipeline extends Omit<z.infer<typeof PipelineSchema>, 'sources'> {
  file: string;
  dir: string;
  rulesDir: string;
  sources: Source[];
}

export function loadPipeline(file: string): Pipeline {
  const path = resolve(file);
  const y = readYamlFile(path);
  const raw = validate(y, PipelineSchema);
  const dir = dirname(path);
  const sources = raw.sources.map((s, i) =>
    createSource(s, { file: path, path: formatPath(['sources', i]), line: y.lineOf(['sources', i]) }),
  );
  const ids = new Set<string>();
  sources.forEach((s, i) => {
    if (ids.has(s.id)) {
      throw new ConfigError(path, `sources[${i}].id`, `duplicate source id '${s.id}'`, y.lineOf(['sources', i, 'id']));
    }
    ids.add(s.id);
  });
  return { ...raw, file: path, dir, rulesDir: resolve(dir, raw.rules), sources };
}
