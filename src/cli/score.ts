import { resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { ItemKind } from '../core/types.ts';
import { DEFAULT_RULES, stdinLines, writeLine } from './common.ts';
import { offlineProcessor } from './toolkit.ts';

const ScoreLine = z
  .object({
    id: z.union([z.string().min(1), z.number()], { error: 'required: a non-empty string or a number' }).transform(String),
    title: z.string().optional(),
    body: z.string().optional(),
    text: z.string().optional(),
    kind: ItemKind.default('news'),
    source: z.string().optional(),
    region: z.string().optional(),
    publishedAt: z.string().optional(),
  })
  .refine((o) => o.body !== undefined || o.text !== undefined, { message: 'needs "body" or "text"', path: ['body'] });

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score JSON lines {id, title?, body|text, kind?} from stdin; one JSON line out per line in')
    .option('--rules <dir>', 'rules folder', DEFAULT_RULES)
    .option('--province <code>', 'home province for ambiguous place names', '360000')
    .action(async (o: { rules: string; province: string }) => {
      const { process: score } = await offlineProcessor(resolve(o.rules), { province: o.province });
      let lineNo = 0;
      let bad = 0;
      for await (const line of stdinLines()) {
        lineNo++;
        if (!line.trim()) continue;
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch (err) {
          bad++;
          writeLine({ id: null, error: `line ${lineNo}: invalid JSON: ${(err as Error).message}` });
          continue;
        }
        const r = ScoreLine.safeParse(json);
        if (!r.success) {
          bad++;
          const i = r.error.issues[0]!;
          const id = (json as { id?: unknown })?.id;
          writeLine({ id: typeof id === 'string' || typeof id === 'number' ? String(id) : null, error: `line ${lineNo}: ${i.path.join('.') || '(line)'}: ${i.message}` });
          continue;
        }
        const v = r.data;
        const now = new Date().toISOString();
        const s = score({
          id: v.id,
          sourceId: v.source ?? 'stdin',
          kind: v.kind,
          title: v.title ?? '',
          body: v.body ?? v.text ?? '',
          publishedAt: v.publishedAt && !Number.isNaN(Date.parse(v.publishedAt)) ? v.publishedAt : now,
          fetchedAt: now,
          regionHint: v.region,
          fields: {},
        });
        writeLine({
          id: v.id,
          risk: s.risk,
          level: s.level,
          category: s.category,
          score: s.score,
          regions: s.regions,
          hits: s.hits,
          explanation: s.explanation,
        });
      }
      if (bad) {
        process.stderr.write(`sentinel score: ${bad} of ${lineNo} lines could not be scored (see their "error")\n`);
        process.exitCode = 1;
      }
    });
}
