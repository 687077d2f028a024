import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts, Session } from '../auth/accounts.ts';
import { principalOf } from '../auth/accounts.ts';
import type { Principal, Role } from '../auth/roles.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking; set by the access hook on every non-public route. */
    principal?: Principal;
    /** The cookie session behind the principal, when it came from one. */
    deskSession?: Session;
  }
}

export type AccessRule =
  | { public: true }
  | {
      roles: readonly Role[];
      /** An HTML page: a visitor without a session is sent to /login instead of getting 401. */
      page?: boolean;
      /** Reading does not move the idle clock (the live feed, which an unattended page keeps open). */
      passive?: boolean;
    };

const ALL: readonly Role[] = ['officer', 'county', 'admin'];
const PROVINCE: readonly Role[] = ['officer', 'admin'];

/**
 * Every route the desk serves and who may call it — the one table. A route missing here is
 * refused (403) for everyone, and test/desk/access.test.ts fails on it, so a new route cannot
 * ship open by accident. County users pass the role check on the shared routes; the handlers
 * then narrow every read and write to their region (see scope.ts).
 */
export const ACCESS: Readonly<Record<string, AccessRule>> = {
  'GET /healthz': { public: true },
  'GET /login': { public: true },
  'GET /ui/*': { public: true },
  'GET /vendor/echarts.min.js': { public: true },
  'POST /api/v1/login': { public: true },

  'GET /': { roles: ALL, page: true },
  'GET /trends': { roles: ALL, page: true },
  'GET /ledger': { roles: ALL, page: true },
  'GET /handover': { roles: ALL, page: true },

  'POST /api/v1/logout': { roles: ALL },
  'GET /api/v1/me': { roles: ALL },
  'GET /api/v1/alerts': { roles: ALL },
  'GET /api/v1/alerts/:id': { roles: ALL },
  'POST /api/v1/alerts/:id/actions': { roles: ALL },
  'GET /api/v1/items': { roles: ALL },
  'GET /api/v1/items/:id': { roles: ALL },
  'GET /api/v1/stats': { roles: ALL },
  'GET /api/v1/stream': { roles: ALL, passive: true },
  'GET /api/v1/trends': { roles: ALL },
  'GET /api/v1/briefing': { roles: ALL },
  'GET /api/v1/ledger': { roles: ALL },
  'GET /api/v1/ledger.csv': { roles: ALL },
  'GET /api/v1/handover': { roles: ALL },
  'GET /metrics': { roles: PROVINCE },
  'POST /api/v1/complaints': { roles: ['push', 'admin'] },
  // source health is provincial configuration, not a county's business
  'GET /api/v1/sources': { roles: PROVINCE },
  'POST /api/v1/rules/reload': { roles: ['admin'] },
  // the rules page: what the rules are, how they test and score, is the province's business
  'GET /rules': { roles: PROVINCE, page: true },
  'GET /api/v1/rules': { roles: PROVINCE },
  'POST /api/v1/rules/score': { roles: PROVINCE },
  'GET /api/v1/rules/backtest': { roles: PROVINCE },
  'GET /api/v1/ledger.xlsx': { roles: ALL },
  // names of public GB/T 2260 divisions for the region filter; nothing here is scoped
  'GET /api/v1/regions': { roles: ALL },
  // push channels (URLs hold robot tokens) are administrators' configuration; silences are the
  // duty officers', and a county office's within its own region (checked in channels.ts)
  'GET /channels': { roles: ALL, page: true },
  'GET /sources': { roles: PROVINCE, page: true },
  'GET /api/v1/channels': { roles: ['admin'] },
  'POST /api/v1/channels/:name/test': { roles: ['admin'] },
  'GET /api/v1/silences': { roles: ALL },
  'POST /api/v1/silences': { roles: ALL },
  'DELETE /api/v1/silences/:id': { roles: ALL },
};

/** HEAD is answered by the GET route (Fastify adds it), so it shares the GET rule. */
export function ruleFor(method: string, url: string | undefined): AccessRule | undefined {
  if (!url) return undefined;
  const m = method === 'HEAD' ? 'GET' : method;
  return Object.hasOwn(ACCESS, `${m} ${url}`) ? ACCESS[`${m} ${url}`] : undefined;
}

export const SESSION_COOKIE = 'sentinel_session';
export const CSRF_COOKIE = 'sentinel_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    // first one wins: a cookie tossed in from a sibling subdomain cannot shadow ours
    if (k && !(k in out)) {
      try {
        out[k] = decodeURIComponent(v);
      } catch {
        out[k] = v;
      }
    }
  }
  return out;
}

export interface CookieOptions {
  /** Add `Secure` (the desk is served over https, directly or behind a proxy). */
  secure: boolean;
}

/**
 * The session cookie is HttpOnly (scripts never see it) and SameSite=Strict (no other site can
 * make the browser send it). The CSRF cookie is readable by the page, which echoes it in the
 * `x-csrf-token` header; the server compares that header with the token stored with the session
 * (not with the cookie), so a cookie planted by someone else is worth nothing.
 */
export function sessionCookies(s: { id: string; csrf: string } | null, o: CookieOptions): string[] {
  const tail = `; Path=/; SameSite=Strict${o.secure ? '; Secure' : ''}`;
  if (!s) {
    return [`${SESSION_COOKIE}=; Max-Age=0; HttpOnly${tail}`, `${CSRF_COOKIE}=; Max-Age=0${tail}`];
  }
  return [`${SESSION_COOKIE}=${s.id}; HttpOnly${tail}`, `${CSRF_COOKIE}=${s.csrf}${tail}`];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function deny(req: FastifyRequest, reply: FastifyReply, code: 401 | 403, error: string, page: boolean) {
  if (code === 401 && page) {
    const next = encodeURIComponent(req.url);
    return reply.code(302).header('location', `/login?next=${next}`).send();
  }
  return reply.code(code).send({ error });
}

/**
 * Deny by default: the hook runs before every route and lets a request through only when the
 * route's rule in ACCESS allows this principal. Bearer tokens (machines) need no CSRF token —
 * a browser never attaches them on its own; cookie sessions need it on every state change.
 */
export function registerAccess(app: FastifyInstance, accounts: Accounts | undefined): void {
  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url;
    // no route matched: the 404 handler answers, and it reveals nothing
    if (url === undefined) return;
    const rule = ruleFor(req.method, url);
    if (!rule) return reply.code(403).send({ error: 'route has no access rule' });
    if ('public' in rule) return;
    const page = rule.page === true;
    if (!accounts) return deny(req, reply, 401, 'accounts are not configured', false);

    const auth = req.headers.authorization;
    let principal: Principal | null = null;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      principal = m ? accounts.verifyToken(m[1]) : null;
      if (!principal) return deny(req, reply, 401, 'invalid token', false);
    } else {
      const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
      const session = accounts.session(id, { touch: !rule.passive });
      if (!session) return deny(req, reply, 401, 'login required', page);
      if (!SAFE_METHODS.has(req.method)) {
        const sent = req.headers[CSRF_HEADER];
        const token = Array.isArray(sent) ? sent[0] : sent;
        if (!token || !sameToken(token, session.csrf)) return reply.code(403).send({ error: 'missing or wrong CSRF token' });
      }
      req.deskSession = session;
      principal = principalOf(session.user);
    }
    if (!rule.roles.includes(principal.role)) return reply.code(403).send({ error: `not allowed for role ${principal.role}` });
    req.principal = principal;
  });
}
