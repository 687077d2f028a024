import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawItem, ScoredItem } from '../../src/core/types.ts';
import { loadRuleEngine } from '../../src/scoring/engine.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import { createRegionResolver } from '../../src/text/regions.ts';
import { createProcessor } from '../../src/pipeline/process.ts';
import { startProcessPool, type ProcessPool } from '../../src/pipeline/process-pool.ts';
import { corpus } from '../bench/corpus.ts';

const RULES = path.resolve(import.meta.dirname, '../../rules');
const log = pino({ level: 'silent' });
const withoutClock = (s: ScoredItem) => ({ ...s, processedAt: '' });

describe('the process stage on worker threads', () => {
  let dir: string;
  let rulesDir: string;
  let pool: ProcessPool;
  const init = () => ({ rulesDir, segmenter: 'node-rs' as const, province: '360000', weights: [['jx-news', 1.2]] as [string, number][], sourceRegions: [['county-gov', '360722']] as [string, string][] });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sentinel-pool-'));
    rulesDir = path.join(dir, 'rules');
    cpSync(RULES, rulesDir, { recursive: true });
    pool = await startProcessPool(init(), 2, log);
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores a batch exactly as the inline processor does, in input order', async () => {
    const items: RawItem[] = corpus(120, { seed: 11 }).map((it, i) => (i % 10 === 0 ? { ...it, sourceId: 'county-gov' } : i % 7 === 0 ? { ...it, sourceId: 'jx-news' } : it));
    const engine = await loadRuleEngine(rulesDir);
    const inline = createProcessor({
      engine: () => engine,
      segmenter: createSegmenter({ backend: 'node-rs', dictDir: path.join(rulesDir, 'dict'), extraWords: engine.terms }),
      regions: createRegionResolver({ province: '360000' }),
      sourceWeight: (id) => (id === 'jx-news' ? 1.2 : 1),
      sourceRegion: (id) => (id === 'county-gov' ? '360722' : undefined),
    });
    const pooled = await pool.process(items);
    expect(pooled.map((s) => s.id)).toEqual(items.map((i) => i.id));
    expect(pooled.map(withoutClock)).toEqual(items.map(inline).map(withoutClock));
    expect(pooled.some((s) => s.risk)).toBe(true);
  }, 60_000);

  it('serialises on the worker: processEncoded is JSON.stringify of what process returns, with id and level beside it', async () => {
    const items: RawItem[] = corpus(40, { seed: 17 });
    const [objects, encoded] = await Promise.all([pool.process(items), pool.processEncoded(items)]);
    expect(encoded.map((e) => e.id)).toEqual(items.map((i) => i.id));
    expect(encoded.map((e) => e.level)).toEqual(objects.map((s) => s.level));
    const clockless = (json: string) => JSON.stringify(withoutClock(JSON.parse(json) as ScoredItem));
    // UTF-8 bytes of the JSON text, each item a view of its worker's one buffer for the batch
    expect(encoded.map((e) => clockless(e.json.toString('utf8')))).toEqual(objects.map((s) => clockless(JSON.stringify(s))));
    expect(new Set(encoded.map((e) => e.json.buffer)).size).toBe(pool.size);
    expect(await pool.processEncoded([])).toEqual([]);
  }, 60_000);

  it('answers an empty batch without a round trip and a batch smaller than the pool', async () => {
    expect(await pool.process([])).toEqual([]);
    const one = corpus(1, { seed: 3 });
    expect((await pool.process(one)).map((s) => s.id)).toEqual([one[0]!.id]);
  });

  it('reloads edited rules in every worker, and keeps the last good rules after a broken edit', async () => {
    const item: RawItem = { ...corpus(1, { seed: 5 })[0]!, title: '', body: '某县实验小学食堂午餐后20余名学生出现呕吐腹泻，疑似食物中毒，家长说是三鲜水饺馅变质。', kind: 'complaint' };
    const before = (await pool.process([item, item]))[0]!;
    expect(before.risk).toBe(true);
    // A new exclusion in common.yaml silences the item in both workers.
    const common = path.join(rulesDir, 'common.yaml');
    const original = readFileSync(common, 'utf8');
    expect(original).toMatch(/^unless: \[/m);
    writeFileSync(common, original.replace(/^unless: \[/m, 'unless: [三鲜水饺馅, '));
    await pool.reload();
    const after = await pool.process([item, item]);
    expect(after.map((s) => s.risk)).toEqual([false, false]);
    // A broken file: reload says why, and the workers go on with the rules they had.
    writeFileSync(common, original + '\nunless: [unclosed\n');
    await expect(pool.reload()).rejects.toThrow(/common\.yaml/);
    expect((await pool.process([item])).map((s) => s.risk)).toEqual([false]);
    writeFileSync(common, original);
    await pool.reload();
    expect((await pool.process([item]))[0]!.risk).toBe(true);
  }, 60_000);

  it('refuses to start with a clear reason when the rules cannot be loaded', async () => {
    await expect(startProcessPool({ ...init(), rulesDir: path.join(dir, 'missing') }, 1, log)).rejects.toThrow(/process worker could not start/);
  }, 60_000);
});
