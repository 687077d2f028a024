// JSON over fetch. Answers carry the HTTP status so callers can tell 409 from 422 from a
// network failure (status 0) and say so in Chinese. Every state change carries the CSRF token
// the server tied to the session; a 401 means the session ended, so the page goes to login.

export function csrfToken() {
  const m = /(?:^|;\s*)sentinel_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : '';
}

export function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

async function call(path, init) {
  let r;
  try {
    r = await fetch(path, { credentials: 'same-origin', ...init, headers: { accept: 'application/json', ...(init && init.headers) } });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  if (r.status === 401 && !path.startsWith('/api/v1/login')) {
    toLogin();
    return { ok: false, status: 401, body: null };
  }
  const body = await r.json().catch(() => null);
  return { ok: r.ok, status: r.status, body };
}

export function getJson(path) {
  return call(path, { cache: 'no-store' });
}

export function postJson(path, data) {
  return call(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
    body: JSON.stringify(data),
  });
}
