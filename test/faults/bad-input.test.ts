import { afterAll, afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import iconv from 'iconv-lite';
import pino from 'pino';
import { parseDocument } from 'yaml';
import { HotlineConfig, HotlineSource } from '../../src/sources/hotline.ts';
import { parseFeed, feedItems, MAX_TITLE_CHARS } from '../../src/sources/feed.ts';
import { SourceError } from '../../src/sources/errors.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { loadRuleEngine } from '../../src/scoring/engine.ts';
import { startPipeline, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { itemId } from '../../src/core/ids.ts';
import { tempDir, eventually } from '../helpers/tmp.ts';
import { RULES } from './helpers.ts';

/**
 * Bad input at the edges: whatever a hotline export, a feed or a rules edit contains, the answer
 * is items or a clear error naming where — never an unexpected exception, a hang, a silent zero,
 * or the loss of what was already good.
 */

const t = tempDir('sentinel-faults-input-');
afterAll(() => t.cleanup());

// --- hotline CSV ------------------------------------------------------------------------------

const HEADER = ['登记编号', '登记时间', '诉求类型', '被投诉主体', '诉求内容'];
const FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/","点我")', '+1+1', '-2+3', '@SUM(A1:A9)', '\t=1+1'];
/** Characters that stress CSV: quotes, separators, line breaks, formula starters, CJK and full-width punctuation. */
const cellText = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom('食', '品', '过', '期', '呕', '吐', 'a', '1', ' ', '"', ',', '\n', '=', '+', '@', '|', "'", '!', '，', '“', '”', '\u3000'), maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom(...FORMULAS) },
);

type Spec =
  | { kind: 'good'; text: string }
  | { kind: 'no-key'; text: string }
  | { kind: 'bad-time'; text: string }
  | { kind: 'short' }
  | { kind: 'long'; text: string };

const rowSpec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 6, arbitrary: cellText.map((text) => ({ kind: 'good' as const, text })) },
  { weight: 1, arbitrary: cellText.map((text) => ({ kind: 'no-key' as const, text })) },
  { weight: 1, arbitrary: cellText.map((text) => ({ kind: 'bad-time' as const, text })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'short' as const }) },
  { weight: 1, arbitrary: cellText.map((text) => ({ kind: 'long' as const, text })) },
);

const quote = (v: string) => (/[",\n\r]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Serialises the specs as a well-formed CSV and says which line each record starts on. */
function buildCsv(specs: Spec[]): { text: string; starts: number[]; keys: string[] } {
  const lines = [HEADER.join(',')];
  const starts: number[] = [];
  const keys: string[] = [];
  let line = 2;
  specs.forEach((s, i) => {
    const key = `3601022026${String(i).padStart(6, '0')}`;
    keys.push(key);
    let cells: string[];
    if (s.kind === 'short') cells = [key];
    else if (s.kind === 'no-key') cells = ['', '2026-11-28 08:00:00', '投诉', '某超市', s.text];
    else if (s.kind === 'bad-time') cells = [key, '去年冬天', '投诉', '某超市', s.text];
    else if (s.kind === 'long') cells = [key, '2026-11-28 08:00:00', '投诉', '某超市', s.text, '多余一列', '又一列'];
    else cells = [key, '2026-11-28 08:00:00', '举报', '某超市', s.text];
    const record = cells.map(quote).join(',');
    starts.push(line);
    lines.push(record);
    line += record.split('\n').length;
  });
  return { text: lines.join('\n') + '\n', starts, keys };
}

async function pollFile(name: string, bytes: string | Buffer) {
  const file = join(t.dir, name);
  writeFileSync(file, bytes);
  const source = new HotlineSource(HotlineConfig.parse({ id: 'hotline-12315', type: 'hotline', path: file }));
  const items = await source.poll({ signal: AbortSignal.timeout(10_000), now: () => new Date('2026-11-29T00:00:00Z'), baseDir: t.dir });
  return { items, report: source.lastReport()! };
}

describe('hotline CSV over arbitrary rows', () => {
  it('keeps every valid row with its text verbatim (formulas stay inert text), reports every bad row at its line, never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowSpec, { maxLength: 25 }), async (specs) => {
        const { text, starts, keys } = buildCsv(specs);
        const { items, report } = await pollFile('arb.csv', text);
        const kept = specs.flatMap((s, i) => (s.kind === 'good' || s.kind === 'long' ? [{ id: itemId('hotline-12315', keys[i]!), body: s.text.trim() }] : []));
        expect(items.map((it) => ({ id: it.id, body: it.body }))).toEqual(kept);
        const badLines = specs.flatMap((s, i) => (s.kind === 'no-key' || s.kind === 'bad-time' || s.kind === 'short' ? [starts[i]!] : []));
        // a header-only file is reported as such (line 1), never a silent zero
        expect([...new Set(report.errors.map((e) => e.line))]).toEqual(specs.length ? badLines : [1]);
        for (const e of report.errors) expect(e.problem).toMatch(specs.length ? /missing|not a time/ : /no data rows/);
      }),
      { numRuns: 150 },
    );
  });

  it('whatever the bytes, poll returns items or row errors with line numbers; it never throws or invents rows', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 600 }).map((s) => Buffer.from(`${HEADER.join(',')}\n${s}`)),
      fc.array(fc.array(fc.string({ maxLength: 12 }), { maxLength: 8 }), { maxLength: 20 }).map((rows) =>
        Buffer.from([HEADER.join(','), ...rows.map((r) => r.join(','))].join('\n')),
      ),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (b) => {
        const { items, report } = await pollFile('garbage.csv', b);
        expect(items.length).toBeLessThanOrEqual(report.rows);
        for (const e of report.errors) {
          expect(Number.isInteger(e.line) && e.line >= 0).toBe(true);
          expect(e.problem.length).toBeGreaterThan(0);
        }
        for (const it of items) expect(Number.isNaN(Date.parse(it.publishedAt))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('an unclosed quote keeps the rows before it and names where the damage is', async () => {
    const text = `${HEADER.join(',')}\n1,2026-11-28 08:00,投诉,某超市,面包发霉\n2,2026-11-28 09:00,投诉,某超市,"没有闭合的引号\n3,2026-11-28 10:00,投诉,某超市,后面这行被吞掉\n`;
    const { items, report } = await pollFile('unclosed.csv', text);
    expect(items.map((i) => i.body)).toEqual(['面包发霉']);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.problem).toMatch(/CSV syntax: Quote Not Closed/);
    expect(report.errors[0]!.line).toBeGreaterThanOrEqual(3);
  });

  // Regression (found by this suite, fixed in src/sources/hotline.ts): an empty export, or one with only its header, yields zero
  // items and zero errors — a silent zero. Issue 9 asks for a clear error instead: a drop from the
  // 12315 system with no rows is almost always a failed export, and the desk should hear of it.
  it('an empty file or a header-only file is reported, not a silent zero', async () => {
    for (const body of ['', '\uFEFF', `${HEADER.join(',')}\n`]) {
      const { items, report } = await pollFile('empty.csv', body);
      expect(items).toEqual([]);
      expect(report.errors.length, JSON.stringify(body)).toBeGreaterThan(0);
    }
  });

  // Regression (found by this suite, fixed by decodeHotlineBytes): a file that is GBK up to some row and UTF-8
  // after it (two exports concatenated) is decoded whole as GB18030; the UTF-8 rows are stored as
  // mojibake ("瀛︽牎椋熷爞…") with no error or warning, so the rules never see 学校食堂 and a
  // complaint about a school canteen raises nothing. A row that does not round-trip in the
  // chosen encoding should be reported (or decoded on its own).
  it('a file mixing GBK and UTF-8 rows does not store mojibake silently', async () => {
    const bytes = Buffer.concat([
      iconv.encode(`${HEADER.join(',')}\n1,2026-11-28 08:00,投诉,某超市,超市卖过期面包\n`, 'gbk'),
      Buffer.from('2,2026-11-28 09:00,投诉,某小学食堂,学校食堂饭菜发霉，多名学生呕吐\n'),
    ]);
    const { items, report } = await pollFile('mixed.csv', bytes);
    const stored = items.map((i) => i.body);
    const garbled = stored.filter((b) => !/^[\u4e00-\u9fff，。a-z0-9]*$/.test(b));
    expect(garbled.length === 0 || report.errors.length > 0, `stored: ${stored.join(' | ')}`).toBe(true);
  });
});

// --- feeds --------------------------------------------------------------------------------------

const SAMPLE_FEED = readFileSync(resolve('pipelines/samples/jx-news.xml'), 'utf8');

/** Parses and maps, as the RSS source does; must settle within `ms` (a hang is a failure, not a wait). */
async function parseWithin(text: string, ms = 5_000): Promise<{ items: number; titles: number[] } | SourceError> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`feed parsing did not settle within ${ms} ms`)), ms)));
  try {
    const feed = await Promise.race([parseFeed(text, 'https://example.gov.cn/rss.xml'), hang]);
    const items = feedItems(feed, { sourceId: 'jx-news', kind: 'news', fetchedAt: '2026-11-29T00:00:00.000Z' });
    return { items: items.length, titles: items.map((i) => [...i.title].length) };
  } catch (e) {
    if (e instanceof SourceError) return e;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

describe('feeds over truncated, garbage and huge input', () => {
  it('a feed cut anywhere yields its items or a SourceError naming the feed, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: SAMPLE_FEED.length }), async (cut) => {
        const r = await parseWithin(SAMPLE_FEED.slice(0, cut));
        if (r instanceof SourceError) {
          expect(r.message).toMatch(/^https:\/\/example\.gov\.cn\/rss\.xml: not an RSS\/Atom feed: /);
        } else {
          expect(r.items).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('garbage text and garbage bytes end in a SourceError (or an empty feed), never a crash or a hang', async () => {
    const garbage = fc.oneof(
      fc.string({ maxLength: 2000 }),
      fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b).toString('latin1')),
      fc.string({ maxLength: 300 }).map((s) => `<?xml version="1.0"?><rss version="2.0"><channel><item><title>${s}`),
      fc.string({ maxLength: 300 }).map((s) => `<rss><channel>${s}</channel></rss>`),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (text) => {
        const r = await parseWithin(text);
        if (r instanceof SourceError) expect(r.message.length).toBeGreaterThan('https://example.gov.cn/rss.xml: '.length);
      }),
      { numRuns: 200 },
    );
  });

  it(`titles up to 2 MB are clipped to ${MAX_TITLE_CHARS} characters, in bounded time`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2_000_000 }), fc.constantFrom('食', 'a', '&amp;', '<![CDATA[毒]]>'), async (n, unit) => {
        const title = unit.repeat(Math.ceil(n / unit.length));
        const text = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title><item><title>${title}</title><guid>g1</guid><description>正文</description></item></channel></rss>`;
        const r = await parseWithin(text, 10_000);
        expect(r).not.toBeInstanceOf(SourceError);
        const ok = r as { items: number; titles: number[] };
        expect(ok.items).toBe(1);
        expect(ok.titles[0]).toBeLessThanOrEqual(MAX_TITLE_CHARS + 1);
      }),
      { numRuns: 8 },
    );
  }, 60_000);
});

// --- rules YAML ---------------------------------------------------------------------------------

describe('rules YAML under mutation', () => {
  const rules = join(t.dir, 'rules');
  cpSync(RULES, rules, { recursive: true });
  const riskFiles = readdirSync(join(rules, 'risk')).filter((n) => n.endsWith('.yaml')).sort();
  const originals = new Map(riskFiles.map((n) => [n, readFileSync(join(rules, 'risk', n), 'utf8')]));
  afterEach(() => {
    for (const [n, text] of originals) writeFileSync(join(rules, 'risk', n), text);
  });

  type Mutation = { kind: 'drop' | 'wrong-type'; key: string } | { kind: 'unknown'; key: string };
  const mutation = (keys: string[]): fc.Arbitrary<Mutation> =>
    fc.oneof(
      fc.constantFrom(...keys).map((key) => ({ kind: 'drop' as const, key })),
      fc.constantFrom(...keys).map((key) => ({ kind: 'wrong-type' as const, key })),
      fc.stringMatching(/^[a-z]{2,10}$/).map((s) => ({ kind: 'unknown' as const, key: `x_${s}` })),
    );

  it('any dropped key, wrong type or unknown key: loads (optional key dropped) or a ConfigError naming the file, line and field', async () => {
    const arb = fc.constantFrom(...riskFiles).chain((name) => {
      const keys = (parseDocument(originals.get(name)!).contents as { items: { key: { value: string } }[] }).items.map((p) => p.key.value);
      return fc.tuple(fc.constant(name), mutation(keys));
    });
    await fc.assert(
      fc.asyncProperty(arb, async ([name, m]) => {
        const file = join(rules, 'risk', name);
        const doc = parseDocument(originals.get(name)!);
        if (m.kind === 'drop') doc.delete(m.key);
        else if (m.kind === 'unknown') doc.set(m.key, '红');
        else doc.set(m.key, typeof doc.get(m.key) === 'string' ? ['乱', '写'] : '乱写');
        writeFileSync(file, doc.toString());
        const outcome = await loadRuleEngine(rules).then(
          () => null,
          (e: unknown) => e,
        );
        if (outcome === null) {
          // only dropping an optional key may load
          expect(m.kind).toBe('drop');
          return;
        }
        expect(outcome).toBeInstanceOf(ConfigError);
        const err = outcome as ConfigError;
        expect(err.file).toBe(file);
        expect(err.field.split('.')[0]).toBe(m.key);
        expect(err.line).toBeGreaterThan(0);
        expect(err.message).toContain(`${file}:${err.line}: ${m.key}`);
        if (m.kind === 'unknown') expect(err.problem).toMatch(/unknown key/);
        writeFileSync(file, originals.get(name)!);
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  describe('a running pipeline after a bad edit', () => {
    let running: RunningPipeline | null = null;
    afterEach(async () => {
      await running?.stop();
      running = null;
    });

    it('keeps its last good rules (reloadRules rejects, the watcher logs) and picks up the next good edit', async () => {
      const pipelineFile = join(t.dir, 'pipeline.yaml');
      writeFileSync(
        pipelineFile,
        ['name: 规则热加载测试', 'rules: ./rules', 'sources:', '  - id: hotline-12315', '    type: hotline', '    path: ./drop', '    kind: complaint', ''].join('\n'),
      );
      const logged: string[] = [];
      const log = pino({ level: 'error' }, { write: (s: string) => void logged.push(s) });
      running = await startPipeline({ pipelineFile, roles: ['process', 'alerts'], dataDir: join(t.dir, 'data'), watchRules: true, log });
      const good = running.engine();
      const school = join(rules, 'risk', 'school.yaml');

      writeFileSync(school, originals.get('school.yaml')!.replace(/^near: (\d+)$/m, 'near: 很近'));
      const rejected = await running.reloadRules().then(
        () => null,
        (e: unknown) => e as ConfigError,
      );
      expect(rejected).toBeInstanceOf(ConfigError);
      expect(rejected!.message).toMatch(new RegExp(`${school.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: near: expected a number`));
      expect(running.engine()).toBe(good);
      // the watcher saw the same bad edit: it logs and keeps the good rules
      await eventually(() => logged.some((l) => /rules reload failed; keeping the last good rules/.test(l)), 5_000);
      expect(running.engine()).toBe(good);

      // scoring still runs on the last good rules
      const complaint = {
        id: itemId('hotline-12315', 'bad-edit-1'), sourceId: 'hotline-12315', kind: 'complaint' as const,
        title: '投诉：某小学食堂', body: '孩子在学校食堂吃午饭，饭菜里吃出虫子，当天班上5个学生呕吐腹泻，已送医。',
        publishedAt: new Date().toISOString(), fetchedAt: new Date().toISOString(), regionHint: '360102', fields: {},
      };
      await running.ingest([complaint]);
      await running.drained();
      const { items: alerts } = await running.store.searchAlerts({ limit: 10, offset: 0 });
      expect(alerts.some((a) => a.itemIds.includes(complaint.id) && a.category === '校园食品安全')).toBe(true);

      // the next good edit is taken
      writeFileSync(school, originals.get('school.yaml')!);
      await eventually(() => running!.engine() !== good, 5_000);
    }, 30_000);
  });
});
