import type { Pipeline, PipelineTest } from '../config/pipeline.ts';
import type { Processor } from './process.ts';
import { alertFor } from '../alerts/raise.ts';

export interface PipelineTestResult {
  name: string;
  ok: boolean;
  problems: string[];
  actual: { alert: boolean; level: string | null; category: string | null; regions: string[] };
}

/** Runs one `tests:` case of a pipeline file: text in, through process and alerting, verdict out. */
export function runPipelineTest(pipeline: Pipeline, process: Processor, t: PipelineTest, index: number): PipelineTestResult {
  const now = new Date().toISOString();
  const item = process({
    id: `test-${index}`,
    sourceId: t.source ?? 'pipeline-test',
    kind: t.kind,
    title: t.title,
    body: t.text,
    publishedAt: now,
    fetchedAt: now,
    regionHint: t.regionHint,
    fields: {},
  });
  const alert = alertFor(item, pipeline.alerts.minLevel);
  const actual = { alert: alert !== null, level: item.level, category: item.category, regions: item.regions };
  const problems: string[] = [];
  const e = t.expect;
  if (e.alert !== actual.alert) problems.push(`expected ${e.alert ? 'an alert' : 'no alert'}, got ${actual.alert ? `a ${actual.level} alert` : `none (level ${actual.level ?? '—'})`}`);
  if (e.level && e.level !== actual.level) problems.push(`expected level ${e.level}, got ${actual.level ?? 'none'}`);
  if (e.category && e.category !== actual.category) problems.push(`expected category ${e.category}, got ${actual.category ?? 'none'}`);
  if (e.regions && !e.regions.every((r) => actual.regions.includes(r))) {
    problems.push(`expected regions ${e.regions.join(',')}, got ${actual.regions.join(',') || 'none'}`);
  }
  return { name: t.name ?? `tests[${index}]`, ok: problems.length === 0, problems, actual };
}
