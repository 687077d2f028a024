import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { adhocSource, createSource, sourceTypes } from '../../src/sources/registry.ts';
import { parseDuration } from '../../src/sources/source.ts';
import { ctx, FIXTURES } from './helpers.ts';

const where = { file: 'pipelines/default.yaml', path: 'sources[2]', line: 14 };

function configError(config: unknown): ConfigError {
  try {
    createSource(config, where);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('createSource', () => {
  it('knows rss, html and hotline', () => {
    expect(sourceTypes()).toEqual(['hotline', 'html', 'rss']);
  });

  it('builds an rss source with defaults', () => {
    const s = createSource({ id: 'gov-news', type: 'rss', url: 'https://www.samr.gov.cn/rss.xml' }, where);
    expect(s).toMatchObject({ id: 'gov-news', type: 'rss', kind: 'news', everyMs: 600_000, weight: 1 });
  });

  it('builds a hotline source with defaults and the common options', () => {
    const s = createSource({ id: 'hotline_12315', type: 'hotline', path: 'samples/hotline', every: '1h30m', weight: 2.5 }, where);
    expect(s).toMatchObject({ id: 'hotline_12315', type: 'hotline', kind: 'complaint', everyMs: 5_400_000, weight: 2.5 });
  });

  it('names file, path, field and line when the url is not a URL or path', () => {
    const e = configError({ id: 'x', type: 'rss', url: 'ftp://example.com/feed' });
    expect(e.message).toBe('pipelines/default.yaml:14: sources[2].url: expected an http(s) URL or a path');
    expect(e).toMatchObject({ file: 'pipelines/default.yaml', field: 'sources[2].url', line: 14 });
  });

  it('rejects an unknown type and lists the known ones', () => {
    expect(configError({ id: 'x', type: 'twitter' }).message).toBe(
      'pipelines/default.yaml:14: sources[2].type: unknown source type "twitter"; known types: hotline, html, rss',
    );
    expect(configError({ id: 'x' }).message).toMatch(/sources\[2\]\.type: required; known types: hotline, html, rss/);
  });

  it('rejects typos in option names (strict schemas)', () => {
    const e = configError({ id: 'x', type: 'rss', url: 'feed.xml', evry: '5m' });
    expect(e.field).toBe('sources[2].evry');
    expect(e.problem).toMatch(/^unknown option \(known: type, id, kind, every, weight, region, allowPrivate, url, timeout, maxBytes, fullText, robots\)/);
  });

  it('rejects a typo inside hotline columns', () => {
    expect(configError({ id: 'x', type: 'hotline', path: 'd', columns: { keys: '编号' } }).field).toBe('sources[2].columns.keys');
  });

  it.each([
    [{ id: 'Gov News', type: 'rss', url: 'a.xml' }, 'sources[2].id', /lower-case letters/],
    [{ id: 'x', type: 'rss', url: 'a.xml', every: 'soon' }, 'sources[2].every', /expected a duration like 30s, 10m or 1h, got "soon"/],
    [{ id: 'x', type: 'rss', url: 'a.xml', every: '100ms' }, 'sources[2].every', /more often than every 1s/],
    [{ id: 'x', type: 'rss', url: 'a.xml', weight: 7 }, 'sources[2].weight', /5/],
    [{ id: 'x', type: 'rss', url: 'a.xml', kind: 'rumour' }, 'sources[2].kind', /news|complaint|notice/],
    [{ id: 'x', type: 'rss' }, 'sources[2].url', /required/],
    [{ id: 'x', type: 'hotline', path: 'd', columns: { key: [] } }, 'sources[2].columns.key', /.+/],
  ])('%j fails on %s', (config, field, problem) => {
    const e = configError(config);
    expect(e.field).toBe(field);
    expect(e.problem).toMatch(problem);
  });

  it('reports every problem of an entry, not just the first', () => {
    const e = configError({ id: 'X', type: 'rss', url: 'ftp://a', weight: -1 });
    expect(e.message).toMatch(/sources\[2\]\.id: .*; also sources\[2\]\.weight: .*; also sources\[2\]\.url: /);
  });

  it('rejects an entry that is not a mapping', () => {
    expect(configError('rss').message).toBe('pipelines/default.yaml:14: sources[2]: expected a mapping with at least id and type');
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1d', 86_400_000],
  ])('%s = %i ms', (s, ms) => expect(parseDuration(s)).toBe(ms));

  it.each(['', '10', 'm', '10 minutes', '-5m'])('%j is not a duration', (s) => expect(parseDuration(s)).toBeNull());
});

describe('adhocSource', () => {
  it.each([
    ['https://www.samr.gov.cn/xw/rss.xml', 'rss'],
    ['https://example.gov.cn/feed', 'rss'],
    ['feeds/news.xml', 'rss'],
    ['exports/2026-11-29.csv', 'hotline'],
    ['exports/2026-11-29.jsonl', 'hotline'],
    ['exports/2026-11-29.xlsx', 'hotline'],
  ])('guesses the type of %s as %s', (target, type) => {
    expect(adhocSource(target).type).toBe(type);
  });

  it('looks inside an unlabelled local file or folder', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sentinel-adhoc-'));
    writeFileSync(path.join(dir, 'records'), '{"登记编号":"A"}\n');
    writeFileSync(path.join(dir, 'feed'), '\ufeff<?xml version="1.0"?><rss version="2.0"/>');
    expect(adhocSource(path.join(dir, 'records')).type).toBe('hotline');
    expect(adhocSource(path.join(dir, 'feed')).type).toBe('rss');
    expect(adhocSource(dir).type).toBe('hotline');
  });

  it('honours an explicit type and polls the target', async () => {
    const s = adhocSource('rss2-bom.xml', 'rss');
    expect(s.id).toBe('adhoc');
    const [item] = await s.poll(ctx({ baseDir: FIXTURES }));
    expect(item.sourceId).toBe('adhoc');
  });

  it('rejects an unknown type and a hotline URL', () => {
    expect(() => adhocSource('a.xml', 'twitter')).toThrow(/--type: unknown source type "twitter"; known types: hotline, html, rss/);
    expect(() => adhocSource('https://example.com/list.html', 'html')).toThrow(/--list: an html source needs a CSS selector/);
    expect(() => adhocSource('https://example.com/export.csv')).toThrow(/hotline sources read local files/);
  });
});
