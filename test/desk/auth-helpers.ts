import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Accounts } from '../../src/auth/accounts.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

export const PASSWORDS = {
  officer: 'duty-desk-officer-pw',
  county: 'donghu-county-pw-1',
  admin: 'admin-password-long',
};

/** Three users, one per role; the county office is 东湖区 (360102) in 南昌市. */
export async function seedAccounts(opts: ConstructorParameters<typeof Accounts>[1] = {}): Promise<Accounts> {
  const accounts = new Accounts(openDatabase(':memory:'), opts);
  await accounts.addUser('张敏', 'officer', undefined, PASSWORDS.officer);
  await accounts.addUser('东湖区局', 'county', '360102', PASSWORDS.county);
  await accounts.addUser('admin', 'admin', undefined, PASSWORDS.admin);
  return accounts;
}

export interface Client {
  cookie: string;
  csrf: string;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

/** Cookie header value from the Set-Cookie lines of a response. */
export function cookieFrom(setCookie: string | string[] | undefined): string {
  const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return lines.map((l) => l.split(';')[0]).join('; ');
}

export async function login(app: () => FastifyInstance, name: string, password: string): Promise<Client> {
  const r = await app().inject({ method: 'POST', url: '/api/v1/login', payload: { name, password } });
  if (r.statusCode !== 200) throw new Error(`login ${name} failed: ${r.statusCode} ${r.body}`);
  const cookie = cookieFrom(r.headers['set-cookie']);
  const csrf = (r.json() as { csrf: string }).csrf;
  const inject = (o: InjectOptions): Promise<LightMyRequestResponse> => app().inject(o);
  return {
    cookie,
    csrf,
    get: (url, headers = {}) => inject({ method: 'GET', url, headers: { cookie, ...headers } }),
    post: (url, payload, headers = {}) =>
      inject({ method: 'POST', url, payload: payload as object, headers: { cookie, 'x-csrf-token': csrf, ...headers } }),
  };
}
