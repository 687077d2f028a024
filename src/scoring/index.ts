export { loadRuleEngine, compileRuleEngine, groupScore, type RuleEngine, type ScoreInput, type ScoreResult } from './engine.ts';
export { runRuleFileTests, type RuleTestResult } from './rule-tests.ts';
export { buildUserDict } from './dict.ts';
export { parseWhen, type WhenExpr } from './when.ts';
