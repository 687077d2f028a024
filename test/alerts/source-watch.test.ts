import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { sourceOutage, outageAlert, SYSTEM_CATEGORY } from '../../src/alerts/source-watch.ts';
import type { SourceStatus } from '../../src/pipeline/source-state.ts';
import { startPipeline } from '../../src/pipeline/runner.ts';
import { tempDir } from '../helpers/tmp.ts';

const status = (over: Partial<SourceStatus>): SourceStatus => ({
  id: 'jx-news', type: 'rss', kind: 'news', lastPollAt: null, lastSuccessAt: null, lastError: null,
  lastErrorAt: null, consecutiveFailures: 0, seen: 0, new: 0, duplicate: 0, newestItemAt: null, nextPollAt: null, ...over,
});
const now = new Date('2026-11-29T08:00:00Z');
const TEN_MIN = 600_000;

describe('source watch', () => {
  it('a healthy source is no outage', () => {
    expect(sourceOutage(status({ lastSuccessAt: '2026-11-29T07:55:00Z' }), TEN_MIN, now)).toBeNull();
  });

  it('one or two failed polls are a blip, three in a row an outage', () => {
    expect(sourceOutage(status({ consecutiveFailures: 2, lastSuccessAt: '2026-11-29T07:40:00Z' }), TEN_MIN, now)).toBeNull();
    const o = sourceOutage(status({ consecutiveFailures: 3, lastError: 'HTTP 503', lastSuccessAt: '2026-11-29T07:30:00Z' }), TEN_MIN, now);
    expect(o).toEqual({ since: '2026-11-29T07:30:00Z', reason: '连续 3 次采集失败：HTTP 503' });
  });

  it('silence beyond three intervals (at least an hour) is an outage even without errors', () => {
    expect(sourceOutage(status({ lastSuccessAt: '2026-11-29T07:10:00Z' }), TEN_MIN, now)).toBeNull();
    expect(sourceOutage(status({ lastSuccessAt: '2026-11-29T06:30:00Z' }), TEN_MIN, now)?.reason).toMatch(/已 1.5 小时没有成功采集/);
    const hourly = 3_600_000;
    expect(sourceOutage(status({ lastSuccessAt: '2026-11-29T05:30:00Z' }), hourly, now)).toBeNull();
  });

  it('one system alert per outage, named by source and start', () => {
    const a = outageAlert('jx-news', { since: '2026-11-29T07:30:00Z', reason: 'x' }, now);
    const b = outageAlert('jx-news', { since: '2026-11-29T07:30:00Z', reason: 'y' }, new Date('2026-11-29T09:00:00Z'));
    expect(a.id).toBe(b.id);
    expect(a).toMatchObject({ category: SYSTEM_CATEGORY, level: '橙', sources: ['jx-news'], status: 'new' });
  });

  it('the running pipeline raises "monitoring stopped" for a source that keeps failing', async () => {
    const t = tempDir();
    const file = join(t.dir, 'p.yaml');
    writeFileSync(
      file,
      `name: t\nrules: ${resolve('rules')}\nsources:\n  - id: gone\n    type: rss\n    url: missing-feed.xml\n    every: 1m\n`,
    );
    const running = await startPipeline({ pipelineFile: file, dataDir: join(t.dir, 'data'), roles: ['process', 'alerts'], log: pino({ level: 'silent' }) });
    try {
      for (let i = 0; i < 3; i++) await running.pollAll();
      expect(running.sourceStatuses()[0]).toMatchObject({ consecutiveFailures: 3 });
      expect(await running.checkSources()).toBe(1);
      expect(await running.checkSources()).toBe(0);
      const alerts = await running.store.searchAlerts({ category: [SYSTEM_CATEGORY], limit: 10, offset: 0 });
      expect(alerts.total).toBe(1);
      expect(alerts.items[0]!.title).toContain('gone');
      const metrics = await running.metrics.registry.metrics();
      expect(metrics).toMatch(/sentinel_source_polls_total\{source="gone",outcome="error"\} 3/);
    } finally {
      await running.stop();
      t.cleanup();
    }
  });
});
