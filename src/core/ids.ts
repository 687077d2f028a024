import { createHash } from 'node:crypto';

/** Stable id of an item: hash of its source and its own key, so replays upsert, never duplicate. */
export function itemId(sourceId: string, key: string): string {
  return 'i' + createHash('sha256').update(sourceId).update('\u0000').update(key).digest('hex').slice(0, 23);
}

export function contentHash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('hex');
}
