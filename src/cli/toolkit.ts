import { join } from 'node:path';
import { loadRuleEngine, type RuleEngine } from '../scoring/engine.ts';
import { createSegmenter, type SegmenterBackend } from '../text/segment.ts';
import { createRegionResolver } from '../text/regions.ts';
import { createBatchProcessor, oneAtATime, type BatchProcessor, type Processor } from '../pipeline/process.ts';

/** The process stage without bus or store, for commands that score text directly. */
export async function offlineProcessor(
  rulesDir: string,
  opts: { province?: string; backend?: SegmenterBackend } = {},
): Promise<{ engine: RuleEngine; process: Processor; processBatch: BatchProcessor }> {
  const engine = await loadRuleEngine(rulesDir);
  const segmenter = createSegmenter({ backend: opts.backend, dictDir: join(rulesDir, 'dict'), extraWords: engine.terms });
  const processBatch = createBatchProcessor({
    engine: () => engine,
    segmenter,
    regions: createRegionResolver({ province: opts.province ?? '360000' }),
  });
  return { engine, process: oneAtATime(processBatch), processBatch };
}
