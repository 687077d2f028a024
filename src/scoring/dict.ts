import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadRuleEngine, type RuleEngine } from './engine.ts';

/** jieba frequency for rule terms: high enough that jieba keeps 「学校食堂」 whole, not a hard override. */
const TERM_FREQ = 2000;

/**
 * The jieba user dictionary (`word freq tag` a line) holding every term the rules match, so the
 * segmenter cuts text the way the rules read it. Sorted for stable diffs.
 */
export function buildUserDict(engine: RuleEngine): string {
  const header = '# Generated from rules/ by `npx tsx src/scoring/dict.ts rules`; do not edit by hand.\n';
  const lines = [...new Set(engine.terms)].filter((t) => t.length > 1 && !/\s/.test(t)).sort().map((t) => `${t} ${TERM_FREQ} nz`);
  return header + lines.join('\n') + '\n';
}

/** Parses a user dictionary back into its words (comments and blank lines skipped). */
export function dictWords(content: string): Set<string> {
  const words = new Set<string>();
  for (const line of content.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    words.add(t.split(/\s+/)[0]!);
  }
  return words;
}

// `npx tsx src/scoring/dict.ts [rules-dir]` rewrites rules/dict/user.dict.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const dir = process.argv[2] ?? 'rules';
  const engine = await loadRuleEngine(dir);
  const out = path.join(dir, 'dict', 'user.dict');
  await writeFile(out, buildUserDict(engine), 'utf8');
  console.log(`wrote ${out} (${engine.terms.length} terms)`);
}
