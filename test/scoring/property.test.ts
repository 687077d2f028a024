import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Hit, LEVELS, RuleExplanation } from '../../src/core/types.ts';
import { loadRuleEngine } from '../../src/scoring/engine.ts';
import { normalise } from '../../src/text/normalise.ts';

const engine = await loadRuleEngine(path.resolve(import.meta.dirname, '../../rules'));
const terms = engine.terms;

// Text built from rule terms, cues and noise, so the property reaches matching, negation and windows.
const termy = fc.array(fc.oneof(fc.constantFrom(...terms), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('，', '。', '\n', ' ')), { maxLength: 60 }).map((a) => a.join(''));
const anyText = fc.oneof(termy, fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 200 }));

function wellFormed(text: string, r: ReturnType<typeof engine.score>): void {
  expect(typeof r.risk).toBe('boolean');
  expect(r.risk).toBe(r.level !== null);
  expect(r.level === null || (LEVELS as readonly string[]).includes(r.level)).toBe(true);
  expect(r.category === null).toBe(r.level === null);
  expect(Number.isFinite(r.score) && r.score >= 0).toBe(true);
  for (const h of r.hits) {
    Hit.parse(h);
    expect(h.start).toBeGreaterThanOrEqual(0);
    expect(h.end).toBeLessThanOrEqual(text.length);
    expect(text.slice(h.start, h.end).toLowerCase()).toBe(h.term.toLowerCase());
  }
  for (const e of r.explanation) RuleExplanation.parse(e);
  if (r.level) expect(r.explanation.some((e) => e.level === r.level && e.score === r.score && e.category === r.category)).toBe(true);
}

describe('RuleEngine.score (property)', () => {
  it('never throws and returns a well-formed result for any text and kind', () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom('news', 'complaint', 'notice') as fc.Arbitrary<'news' | 'complaint' | 'notice'>, fc.option(fc.double()), fc.option(fc.date({ noInvalidDate: false })), (raw, kind, w, at) => {
        const text = normalise(raw);
        const r = engine.score({ text, kind, ...(w != null ? { sourceWeight: w } : {}), ...(at ? { at } : {}) });
        wellFormed(text, r);
      }),
      { numRuns: 300 },
    );
  });

  it('handles huge texts by scanning a bounded prefix', () => {
    fc.assert(
      fc.property(termy, (chunk) => {
        const unit = chunk || '学校食堂呕吐';
        const text = unit.repeat(Math.ceil(60_000 / unit.length));
        const r = engine.score({ text, kind: 'news' });
        wellFormed(text, r);
        expect(r.hits.length).toBeLessThanOrEqual(500);
        for (const h of r.hits) expect(h.end).toBeLessThanOrEqual(20_000);
        for (const e of r.explanation) expect(e['truncated']).toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  it('normalise never throws and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const once = normalise(s);
        expect(normalise(once)).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('scores the same text the same way twice (no hidden state)', () => {
    fc.assert(
      fc.property(termy, (raw) => {
        const text = normalise(raw);
        expect(engine.score({ text, kind: 'news', at: new Date(0) })).toEqual(engine.score({ text, kind: 'news', at: new Date(0) }));
      }),
      { numRuns: 100 },
    );
  });
});
