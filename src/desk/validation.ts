import type { z } from 'zod';

/** One problem with a request, named by the field a client can fix. */
export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * Turns a zod error into field issues. Query strings are flat, so for a query the path is cut
 * to the parameter name (`level`, not `level.1`): that is what the caller typed and can fix.
 * Unknown keys (the schemas are strict) get one issue each, so a typo like `?levle=红` is named.
 */
export function fieldIssues(error: z.ZodError, opts: { flat?: boolean; allowed?: readonly string[] } = {}): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.map(String).join('.');
      const hint = opts.allowed?.length ? `; allowed: ${opts.allowed.join(', ')}` : '';
      for (const key of issue.keys) {
        out.push({ path: prefix ? `${prefix}.${key}` : key, message: `unknown parameter "${key}"${hint}` });
      }
      continue;
    }
    const segments = issue.path.map(String);
    const path = opts.flat ? (segments[0] ?? '') : segments.join('.');
    out.push({ path, message: issue.message });
  }
  return out;
}

/** The keys a strict zod object accepts, for the hint on an unknown parameter. */
export function shapeKeys(schema: { shape: Record<string, unknown> }): string[] {
  return Object.keys(schema.shape);
}
