import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleEngine } from '../../src/scoring/engine.ts';
import { evaluate, parseLabelled } from '../../src/scoring/eval.ts';

// The labelled development set (written independently of the rules): rules must keep generalising.
const DIR = path.resolve(import.meta.dirname, '../fixtures/labelled');
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).sort() : [];
const rows = files.flatMap((f) => parseLabelled(readFileSync(path.join(DIR, f), 'utf8'), f));

describe.skipIf(rows.length === 0)('rules against the labelled development set', async () => {
  const engine = await loadRuleEngine(path.resolve(import.meta.dirname, '../../rules'));
  const report = evaluate(engine, rows);

  it('finds risks with overall F1 ≥ 0.90 (risk is the positive class)', () => {
    const worst = [...report.worstFalsePositives.slice(0, 5), ...report.worstFalseNegatives.slice(0, 5)].map((m) => `${m.id} ${m.title}`);
    expect({ f1: report.overall.f1, worst }).toMatchObject({ f1: expect.any(Number) });
    expect(report.overall.f1).toBeGreaterThanOrEqual(0.9);
  });

  it('reports per-category figures and a level confusion matrix that add up', () => {
    const risky = rows.filter((r) => r.risk).length;
    expect(report.overall.tp + report.overall.fn).toBe(risky);
    const confusionTotal = Object.values(report.levelConfusion).reduce((a, row) => a + Object.values(row).reduce((x, y) => x + y, 0), 0);
    expect(confusionTotal).toBe(rows.length);
    for (const v of Object.values(report.categories)) expect(v.f1).toBeGreaterThanOrEqual(0);
  });
});
