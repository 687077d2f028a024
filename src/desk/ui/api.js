// JSON over fetch. Answers carry the HTTP status so callers can tell 409 from 422 from a
// network failure (status 0) and say so in Chinese.

async function call(path, init) {
  let r;
  try {
    r = await fetch(path, { ...init, headers: { accept: 'application/json', ...(init && init.headers) } });
  } catch {
    return { ok: false, status: 0, body: null };
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
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
}
