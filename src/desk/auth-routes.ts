import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeskDeps, DeskOptions } from './deps.ts';
import { SESSION_COOKIE, parseCookies, sessionCookies } from './access.ts';
import { fieldIssues } from './validation.ts';
import { regionName } from './region-names.ts';

const LoginBody = z.object({ name: z.string().trim().min(1).max(64), password: z.string().min(1).max(256) }).strict();

/** Failed logins per name within the window before the desk stops checking passwords for it. */
const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 15 * 60_000;

/**
 * Login, logout and "who am I". Login takes JSON only: a cross-site form cannot send
 * application/json without a CORS preflight this desk never grants, which is what protects the
 * login itself from CSRF (there is no session yet to tie a token to).
 */
export function registerAuthRoutes(app: FastifyInstance, deps: DeskDeps, opts: DeskOptions): void {
  const failures = new Map<string, { n: number; since: number }>();
  const cookieOpts = { secure: opts.secureCookies ?? false };

  app.post('/api/v1/login', async (req, reply) => {
    const accounts = deps.accounts;
    if (!accounts) return reply.code(503).send({ error: 'accounts are not configured' });
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return reply.code(415).send({ error: 'login takes application/json' });
    }
    const body = LoginBody.safeParse(req.body ?? {});
    if (!body.success) return reply.code(400).send({ error: 'invalid login', issues: fieldIssues(body.error) });
    const { name, password } = body.data;
    const now = Date.now();
    const f = failures.get(name);
    if (f && now - f.since < FAILURE_WINDOW_MS && f.n >= MAX_FAILURES) {
      return reply.code(429).send({ error: '登录失败次数过多，请 15 分钟后再试' });
    }
    const user = await accounts.verifyPassword(name, password);
    if (!user) {
      const cur = f && now - f.since < FAILURE_WINDOW_MS ? f : { n: 0, since: now };
      failures.set(name, { n: cur.n + 1, since: cur.since });
      // An unknown name is often a password typed into the name field: never log it.
      req.log.warn(accounts.hasUser(name) ? { name } : { name: null, unknownUser: true }, 'desk login failed');
      return reply.code(401).send({ error: '用户名或密码错误' });
    }
    failures.delete(name);
    // whatever session the browser came with is dropped: the new rights get a new id
    accounts.destroySession(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
    const s = accounts.createSession(user);
    req.log.info({ name: user.name, role: user.role }, 'desk login');
    return reply
      .header('set-cookie', sessionCookies(s, cookieOpts))
      .send({ user: { name: user.name, role: user.role, region: user.region ?? null }, csrf: s.csrf });
  });

  app.post('/api/v1/logout', async (req, reply) => {
    if (req.deskSession) deps.accounts?.destroySession(req.deskSession.id);
    return reply.header('set-cookie', sessionCookies(null, cookieOpts)).send({ ok: true });
  });

  app.get('/api/v1/me', async (req) => {
    const p = req.principal!;
    return {
      name: p.name,
      role: p.role,
      region: p.region ?? null,
      regionName: p.region ? (regionName(p.region) ?? null) : null,
      via: p.via,
      idleMinutes: deps.accounts ? Math.round(deps.accounts.idleMs / 60_000) : null,
    };
  });
}
