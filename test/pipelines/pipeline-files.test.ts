import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPipeline } from '../../src/config/pipeline.ts';
import { offlineProcessor } from '../../src/cli/toolkit.ts';
import { runPipelineTest } from '../../src/pipeline/selftest.ts';

const dir = resolve('pipelines');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

/** Every pipeline file loads and passes its own `tests:` block. */
describe.each(files)('pipelines/%s', async (file) => {
  const pipeline = loadPipeline(join(dir, file));
  const { process } = await offlineProcessor(pipeline.rulesDir, { province: pipeline.province, backend: pipeline.segmenter });

  it('has at least one test', () => {
    expect(pipeline.tests.length).toBeGreaterThan(0);
  });

  it.each(pipeline.tests.map((t, i) => [t.name ?? `tests[${i}]`, t, i] as const))('%s', (_name, t, i) => {
    const r = runPipelineTest(pipeline, process, t, i);
    expect(r.problems).toEqual([]);
  });
});
