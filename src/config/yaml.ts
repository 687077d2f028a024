import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.ts';

export interface YamlFile {
  file: string;
  value: unknown;
  /** 1-based line of the node at `path`, or of its nearest existing ancestor. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export function readYamlFile(file: string, text = readFileSync(file, 'utf8')): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(file, '', `invalid YAML: ${e.message.split('\n')[0]}`, line);
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    let node: unknown = doc.contents;
    let best: number | undefined;
    const lineAt = (n: unknown) => {
      const r = (n as Node | null)?.range;
      return r ? lineCounter.linePos(r[0]).line : undefined;
    };
    best = lineAt(node);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === String(key));
        if (!pair) break;
        best = lineAt(pair.key) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        best = lineAt(node) ?? best;
      } else break;
    }
    return best;
  };
  return { file, value: doc.toJS(), lineOf };
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join('');
}

/** Validates with zod; the first issue becomes a ConfigError naming file, line and field. */
export function validate<T>(y: YamlFile, schema: z.ZodType<T>, value: unknown = y.value, base: PropertyKey[] = []): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  let path = [...base, ...issue.path];
  let problem = issue.message;
  if (issue.code === 'unrecognized_keys') {
    problem = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    path = [...path, issue.keys[0]!];
  }
  throw new ConfigError(y.file, formatPath(path), problem, y.lineOf(path));
}
