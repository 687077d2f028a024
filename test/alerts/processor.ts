import { loadRuleEngine } from '../../src/scoring/engine.ts';
import { createSegmenter } from '../../src/text/segment.ts';
import { createRegionResolver } from '../../src/text/regions.ts';
import { createProcessor, type Processor } from '../../src/pipeline/process.ts';

/** The real process stage over the bundled rules/ (jieba tokens, SimHash, regions, scores), as the runner builds it. */
export async function realProcessor(): Promise<Processor> {
  const engine = await loadRuleEngine('rules');
  const segmenter = createSegmenter({ dictDir: 'rules/dict', extraWords: engine.terms });
  const regions = createRegionResolver({ province: '360000' });
  return createProcessor({ engine: () => engine, segmenter, regions, now: () => new Date('2026-11-29T00:00:00Z') });
}
