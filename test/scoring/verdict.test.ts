import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadRuleEngine, ruleSetOf, type ScoreInput } from '../../src/scoring/engine.ts';
import { parseLabelled } from '../../src/scoring/eval.ts';
import { normalise, normaliseItemText } from '../../src/text/normalise.ts';
import { corpus } from '../bench/corpus.ts';

/**
 * The pipeline scores every item in `compact` detail through an allocation-free verdict, and
 * explains only what matched. The desk, the CLI and rule tests use `full`. Both must reach the same
 * verdict on every text, and compact's explanations and hits must be exactly full's for the rules
 * they keep: otherwise an alert would say something the rule tester does not.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const LABELLED = path.join(ROOT, 'test/fixtures/labelled');

describe('compact scoring agrees with full scoring', async () => {
  const engine = await loadRuleEngine(path.join(ROOT, 'rules'));
  const MAX_HITS = ruleSetOf(engine)!.common.limits.maxHits;
  const labelled = readdirSync(LABELLED)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => parseLabelled(readFileSync(path.join(LABELLED, f), 'utf8'), f))
    .map((r): ScoreInput => ({ text: normaliseItemText(r.title, r.body), title: normalise(r.title), kind: r.kind, at: new Date('2026-09-01T10:00:00+08:00') }));
  const generated = corpus(600, { seed: 7 }).map((it): ScoreInput => ({ text: normaliseItemText(it.title, it.body), title: it.title, kind: it.kind, at: new Date(it.publishedAt), sourceWeight: 1.3 }));

  const check = (input: ScoreInput) => {
    const full = engine.score(input, { detail: 'full' });
    const compact = engine.score(input, { detail: 'compact' });
    expect({ risk: compact.risk, level: compact.level, category: compact.category, score: compact.score }).toEqual({
      risk: full.risk,
      level: full.level,
      category: full.category,
      score: full.score,
    });
    // Every matched rule is explained in compact exactly as in full.
    const matched = full.explanation.filter((e) => e.matched);
    if (matched.length) expect(compact.explanation).toEqual(matched);
    else if (full.explanation.length) {
      // Nothing matched: compact explains the rule that came closest, as full explains it.
      expect(compact.explanation).toHaveLength(1);
      const top = Math.max(...full.explanation.map((e) => Number(e['potential'])));
      expect(Number(compact.explanation[0]!['potential'])).toBe(top);
      expect(full.explanation).toContainEqual(compact.explanation[0]);
    } else expect(compact.explanation).toEqual([]);
    // Compact hits are a subset of full's, with the same negation flags; matched rules keep all of theirs.
    const key = (h: { rule: string; start: number; term: string; group: string }) => `${h.rule}@${h.start}:${h.term}:${h.group}`;
    // (Only where full did not reach the hit cap, which cuts its list earlier than compact's.)
    const uncapped = full.hits.length < MAX_HITS;
    const fullHits = new Map(full.hits.map((h) => [key(h), h]));
    if (uncapped) for (const h of compact.hits) expect(fullHits.get(key(h))).toEqual(h);
    const matchedIds = new Set(matched.map((e) => e.rule));
    if (uncapped) expect(compact.hits.filter((h) => matchedIds.has(h.rule))).toEqual(full.hits.filter((h) => matchedIds.has(h.rule)));
    // Trends count distinct non-negated words: compact must not lose or invent one.
    const words = (hs: typeof full.hits) => new Set(hs.filter((h) => !h.negated).map((h) => h.term));
    if (uncapped) expect(words(compact.hits)).toEqual(words(full.hits));
  };

  it(`on the ${labelled.length} labelled texts`, () => {
    expect(labelled.length).toBeGreaterThan(500);
    for (const input of labelled) check(input);
  });

  it('on 600 generated news items and complaints', () => {
    for (const input of generated) check(input);
  });

  it('gives an item the same result whatever the engine scored before it (its buffers are reused)', async () => {
    const fresh = async () => loadRuleEngine(path.join(ROOT, 'rules'));
    const sample = [...labelled.slice(0, 40), ...generated.slice(0, 40)];
    const shared = await fresh();
    // Warm the shared engine on long, hit-heavy texts first, so its pools hold stale spans.
    for (const input of generated.slice(40, 120)) shared.score(input, { detail: 'compact' });
    // …and its per-item generation counter wraps around 32 bits in the middle of the sample.
    (shared as unknown as { scratch: { generation: number } }).scratch.generation = 0xffffffff - 50;
    for (const input of sample) {
      const alone = await fresh();
      for (const detail of ['compact', 'full'] as const) expect(shared.score(input, { detail })).toEqual(alone.score(input, { detail }));
    }
  });

  it('on random splices of risk wording, negation, exclusions and context words', () => {
    const words = ['学校食堂', '食物中毒', '呕吐', '腹泻', '20余名学生', '没有', '未发现', '并非', '演练', '辟谣', '食谱', '过期', '变质', '月饼', '超市', '翻新', '，', '。', '某某', '卖'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...words), { maxLength: 40 }), fc.constantFrom('news', 'complaint', 'notice'), (parts, kind) => {
        check({ text: parts.join(''), kind: kind as ScoreInput['kind'], title: parts.slice(0, 3).join('') });
      }),
      { numRuns: 300 },
    );
  });
});
