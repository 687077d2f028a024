import { describe, it, expect, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline } from '../../src/config/pipeline.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const good = `name: 测试
province: '360000'
sources:
  - id: news
    type: rss
    url: feed.xml
  - id: hotline
    type: hotline
    path: drops/
alerts: { minLevel: 橙 }
`;

describe('pipeline files', () => {
  let t = tempDir();
  afterEach(() => {
    t.cleanup();
    t = tempDir();
  });
  const load = (text: string) => {
    const f = join(t.dir, 'p.yaml');
    writeFileSync(f, text);
    return () => loadPipeline(f);
  };
  const errorOf = (text: string): ConfigError => {
    try {
      load(text)();
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    throw new Error('expected a ConfigError');
  };

  it('loads a valid file with defaults filled in and paths resolved against it', () => {
    const p = load(good)();
    expect(p.name).toBe('测试');
    expect(p.alerts.minLevel).toBe('橙');
    expect(p.segmenter).toBe('node-rs');
    expect(p.rulesDir).toBe(join(t.dir, '..', 'rules'));
    expect(p.sources.map((s) => [s.id, s.type])).toEqual([['news', 'rss'], ['hotline', 'hotline']]);
  });

  it('names file, line and field for an unknown top-level key', () => {
    const e = errorOf(good + 'alert: {}\n');
    expect(e.message).toMatch(/p\.yaml:11: alert: unknown field 'alert'/);
  });

  it('names the field of a wrong value', () => {
    const e = errorOf(good.replace('minLevel: 橙', 'minLevel: 紫'));
    expect(e.field).toBe('alerts.minLevel');
    expect(e.line).toBe(10);
  });

  it('names the source entry of an unknown source type', () => {
    const e = errorOf(good.replace('type: hotline', 'type: telegram'));
    expect(e.message).toMatch(/sources\[1\]/);
    expect(e.message).toMatch(/telegram/);
  });

  it('refuses duplicate source ids', () => {
    const e = errorOf(good.replace('id: hotline', 'id: news'));
    expect(e.message).toMatch(/sources\[1\]\.id: duplicate source id 'news'/);
  });

  it('reports broken YAML with its line', () => {
    const e = errorOf('name: x\nsources: [\n  - id: a\n');
    expect(e.message).toMatch(/invalid YAML/);
    expect(e.line).toBeGreaterThan(0);
  });

  it('needs at least one source', () => {
    const e = errorOf("name: x\nsources: []\n");
    expect(e.field).toBe('sources');
  });
});
