/**
 * Whether a handler failure says "not now" rather than "not this record": a store or peer that
 * is down, overloaded, locked or out of space refuses every record alike, and the same records
 * will go through once it is back. Sending them to the DLQ would turn an outage into missing
 * data, so the runner holds the position and keeps retrying them instead; only the other
 * failures count toward the dead-letter topic.
 *
 * `retriable` is the project's own verdict (SentinelError: Elasticsearch 429/5xx and lost
 * connections, fetch errors) and wins whenever it is set. Without it, the usual shapes of
 * "try again" that reach a handler unwrapped are recognised by code: better-sqlite3's busy,
 * locked and full database, and Node's network errors. Causes are followed a few levels deep.
 */
const TRANSIENT_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'ENOSPC',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export function isTransient(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { retriable?: unknown; code?: unknown; cause?: unknown };
  if (typeof e.retriable === 'boolean') return e.retriable;
  // better-sqlite3 reports extended codes too (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE)
  if (typeof e.code === 'string' && (TRANSIENT_CODES.has(e.code) || TRANSIENT_CODES.has(e.code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')))) return true;
  return isTransient(e.cause, depth + 1);
}
