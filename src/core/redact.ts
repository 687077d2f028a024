/*
 * Error text about a channel or a connection string ends up where many people read it: the
 * alert page's deliveries (county offices included), the queue's stored last error, logs. Robot
 * tokens live in channel URLs (DingTalk `access_token`, WeCom `key`, the Feishu hook path) and
 * passwords in `redis://user:pass@…`, and Node's own messages quote URLs whole ("Failed to parse
 * URL from …", "Request cannot be constructed from a URL that includes credentials: …"), as may
 * a receiver's reply. So such text goes through `redact` with the pieces that must not show.
 */

export const REDACTED = '***';

/** Shortest query value or path segment treated as a token; shorter ones are words such as `send` or `v2`. */
const MIN_QUERY_VALUE = 6;
const MIN_PATH_TOKEN = 16;

/**
 * The parts of a URL that can be credentials: user and password, every query value of some
 * length, and long path segments (hook ids). Works on text Node cannot parse as a URL too,
 * since those are exactly the URLs that end up quoted in errors.
 */
export function urlSecrets(url: string): string[] {
  const out = new Set<string>();
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(url.trim());
  if (!m) return [];
  const [, , userinfo, , path, query] = m;
  if (userinfo) {
    for (const part of userinfo.split(':')) if (part) out.add(part);
  }
  for (const seg of (path ?? '').split('/')) if (seg.length >= MIN_PATH_TOKEN) out.add(seg);
  for (const pair of (query ?? '').split('&')) {
    const v = pair.slice(pair.indexOf('=') + 1);
    if (pair.includes('=') && v.length >= MIN_QUERY_VALUE) out.add(v);
  }
  return [...out];
}

/** Every occurrence of each secret (as written, URL-encoded or decoded) replaced by ***. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    try {
      forms.add(decodeURIComponent(s));
    } catch {
      // not %-encoded: the raw form is enough
    }
  }
  // longest first, so a secret that contains another is replaced whole
  let out = text;
  for (const f of [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length)) out = out.split(f).join(REDACTED);
  return out;
}

/** A connection string fit for an error message: `redis://user:***@host:6379/0`. */
export function safeSpec(spec: string): string {
  return spec.replace(/^([a-z][a-z0-9+.-]*:\/\/[^@/?#:]*:)[^@/?#]+@/i, `$1${REDACTED}@`);
}
