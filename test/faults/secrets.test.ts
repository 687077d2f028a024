import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import ExcelJS from 'exceljs';
import { Redis } from 'ioredis';
import { startPipeline, dataFile, type RunningPipeline } from '../../src/pipeline/runner.ts';
import { startDesk } from '../../src/desk/server.ts';
import { Accounts } from '../../src/auth/accounts.ts';
import { acquireDatabase, releaseDatabase } from '../../src/store/sqlite-db.ts';
import { verifyStandardWebhook } from '../../src/notify/formats/generic.ts';
import { dingtalkSign } from '../../src/notify/formats/dingtalk.ts';
import { parseRedisSpec } from '../../src/notify/bullmq.ts';
import { createQueue } from '../../src/notify/factory.ts';
import { redact, urlSecrets } from '../../src/core/redact.ts';
import { tempDir, eventually } from '../helpers/tmp.ts';
import { RULES } from './helpers.ts';

/**
 * No secret in logs, job data, error messages or exported files. The embedded pipeline runs with
 * every kind of secret the desk handles — a Standard Webhooks `whsec_` secret, a DingTalk robot
 * token and 加签 secret, WeCom robot keys, an account password, a push API bearer token, a
 * session cookie — while deliveries fail against local receivers (a 500, a robot refusing and
 * echoing the request URL, a robot URL with a mistyped port). Then everything a person or another
 * system could read is swept for them: the pino log, the desk's request log, every API answer
 * (errors included), the delivery errors on the alert page and the channels page, the ledger
 * CSV/XLSX, the briefing Markdown/HTML, the data file byte for byte (WAL too) and, with the
 * Redis peer, every BullMQ key. The account's argon2 hash must not show anywhere but its row.
 */

const ENV = {
  webhookSecret: 'SECRETS_T_WEBHOOK_SECRET',
  dingtalkToken: 'SECRETS_T_DINGTALK_TOKEN',
  dingtalkSecret: 'SECRETS_T_DINGTALK_SECRET',
  wecomKey: 'SECRETS_T_WECOM_KEY',
  provinceWecomKey: 'SECRETS_T_PROVINCE_WECOM_KEY',
} as const;

type Secrets = Record<string, string>;

/** Which secrets `text` holds, as written or URL-encoded. */
function found(text: string, secrets: Secrets): string[] {
  return Object.entries(secrets)
    .filter(([, v]) => v && (text.includes(v) || text.includes(encodeURIComponent(v))))
    .map(([k]) => k);
}

/** Which secrets the bytes of `file` hold. */
function foundInBytes(buf: Buffer, secrets: Secrets): string[] {
  return Object.entries(secrets)
    .filter(([, v]) => v && (buf.includes(Buffer.from(v, 'utf8')) || buf.includes(Buffer.from(encodeURIComponent(v), 'utf8'))))
    .map(([k]) => k);
}

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Local stand-ins for the robots and the provincial hub, all of them failing. */
async function receivers(): Promise<{ server: Server; base: string; port: number; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.url?.startsWith('/dingtalk/')) {
        // A robot (or a gateway before it) that refuses and quotes the request: reply text is
        // anybody's, and it is stored with the delivery.
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ errcode: 310000, errmsg: `sign not match, more: [${req.url}]` }));
        return;
      }
      res.statusCode = 500;
      res.end(`upstream failed for ${req.url}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { server, base: `http://127.0.0.1:${port}`, port, got };
}

function writePipeline(dir: string, port: number): string {
  const rules = join(dir, 'rules');
  cpSync(RULES, rules, { recursive: true });
  writeFileSync(
    join(rules, 'routes.yaml'),
    [
      'offices:',
      '  - id: jx-province',
      '    name: 江西省市场监督管理局值班室',
      "    region: '360000'",
      '    channels:',
      `      - wecom: { url: 'http://127.0.0.1:${port}/wecom/send?key=\${${ENV.provinceWecomKey}}' }`,
      '  - id: yudu-county',
      '    name: 于都县市场监督管理局',
      "    region: '360731'",
      '    channels:',
      `      - dingtalk: { url: 'http://127.0.0.1:${port}/dingtalk/robot/send?access_token=\${${ENV.dingtalkToken}}', secretEnv: ${ENV.dingtalkSecret} }`,
      '    fallback:',
      // a port mistyped in the routes file: Node refuses the URL and quotes it whole
      `      - wecom: { url: 'http://127.0.0.1:99999/cgi-bin/webhook/send?key=\${${ENV.wecomKey}}' }`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'drops'), { recursive: true });
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    [
      'name: 密钥泄露检查',
      'rules: ./rules',
      'sources:',
      '  - id: drops',
      '    type: hotline',
      '    path: ./drops',
      '    kind: complaint',
      'notify:',
      '  webhooks:',
      `    - { name: zhjg-hub, url: 'http://127.0.0.1:${port}/hook/alerts', secretEnv: ${ENV.webhookSecret} }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** A pino logger whose every line is kept. */
function capturedLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) }), lines };
}

const beijingDay = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

const record = (no: string, text: string) => ({
  登记编号: no,
  登记时间: new Date(Date.now() + 8 * 3_600_000 - 600_000).toISOString().replace('T', ' ').slice(0, 19),
  渠道: '12345转办',
  诉求类型: '举报',
  被投诉主体: { 名称: '于都县贡江镇某小学食堂', 地址: '于都县贡江镇长征大道' },
  所属区域: '360731',
  诉求内容: text,
  投诉人: '李四',
  联系电话: '13912345678',
});

interface Answer {
  what: string;
  status: number;
  text: string;
}

/** Talks to a desk as its users and machines do; keeps every answer (status line, headers but the login cookie, body). */
class DeskUser {
  readonly answers: Answer[] = [];
  cookie = '';
  csrf = '';
  constructor(
    private readonly url: string,
    private readonly s: { admin: string; password: string; pushToken: string },
  ) {}

  async call(what: string, path: string, init: RequestInit & { keepCookie?: boolean } = {}): Promise<{ status: number; body: string; raw: Buffer }> {
    const res = await fetch(`${this.url}${path}`, { redirect: 'manual', ...init });
    const raw = Buffer.from(await res.arrayBuffer());
    const pairs: [string, string][] = [];
    res.headers.forEach((v, k) => pairs.push([k, v]));
    const headers = pairs.filter(([k]) => !(init.keepCookie && k === 'set-cookie')).map(([k, v]) => `${k}: ${v}`);
    this.answers.push({ what, status: res.status, text: `${res.status}\n${headers.join('\n')}\n\n${raw.toString('utf8')}` });
    if (init.keepCookie && res.status === 200) this.cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    return { status: res.status, body: raw.toString('utf8'), raw };
  }

  private json(body: unknown, headers: Record<string, string> = {}): RequestInit {
    return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  }
  private session(extra: Record<string, string> = {}): Record<string, string> {
    return { cookie: this.cookie, 'x-csrf-token': this.csrf, ...extra };
  }

  /** Logins (good and bad), pushes (good and bad): what arrives before any alert exists. */
  async send(no: string): Promise<void> {
    const { admin, password, pushToken } = this.s;
    expect((await this.call('login, wrong password', '/api/v1/login', this.json({ name: admin, password: `${password}x` }))).status).toBe(401);
    // an officer types the password into the name field
    expect((await this.call('login, password as the name', '/api/v1/login', this.json({ name: password, password }))).status).toBe(401);
    expect((await this.call('login, broken JSON', '/api/v1/login', this.json(`{"name":"${admin}","password":"${password}"`))).status).toBe(400);
    expect((await this.call('login, password too long', '/api/v1/login', this.json({ name: admin, password: password.repeat(40) }))).status).toBe(400);
    const ok = await this.call('login', '/api/v1/login', { ...this.json({ name: admin, password }), keepCookie: true });
    expect(ok.status).toBe(200);
    this.csrf = JSON.parse(ok.body).csrf;

    const bearer = { authorization: `Bearer ${pushToken}` };
    const text = '于都县贡江镇某小学食堂学生午餐后集体呕吐腹泻，23名学生送医治疗，怀疑食物中毒。';
    const pushed = await this.call('push', '/api/v1/complaints', this.json([record(no, text), record(`${no}-2`, `${text}（家长补充：饭菜有异味）`)], bearer));
    expect(pushed.status, pushed.body).toBe(200);
    expect((await this.call('push, broken JSON', '/api/v1/complaints', this.json(`[{"登记编号":"${pushToken}"`, bearer))).status).toBe(400);
    expect((await this.call('push, wrong types', '/api/v1/complaints', this.json({ ...record(`${no}-3`, text), 诉求类型: pushToken }, bearer))).status).toBe(400);
    expect((await this.call('push, token with a typo', '/api/v1/complaints', this.json(record(`${no}-4`, text), { authorization: `Bearer ${pushToken.slice(0, -1)}x` }))).status).toBe(401);
    expect((await this.call('push, token in the wrong header form', '/api/v1/complaints', this.json(record(`${no}-5`, text), { authorization: `Token ${pushToken}` }))).status).toBe(401);
    expect((await this.call('push with the cookie, no CSRF token', '/api/v1/complaints', this.json(record(`${no}-6`, text), { cookie: this.cookie }))).status).toBe(403);
    expect((await this.call('session cookie on a broken request', '/api/v1/alerts?level=紫', { headers: this.session() })).status).toBe(400);
  }

  /** Everything an administrator reads afterwards, exports included (XLSX unpacked to its cell text). */
  async read(): Promise<{ alertPages: { id: string; deliveries: { channel: string; status: string; lastError: string | null }[] }[] }> {
    const h = { headers: this.session() };
    await this.call('me', '/api/v1/me', h);
    const list = JSON.parse((await this.call('alerts', '/api/v1/alerts?limit=100', h)).body) as { items: { id: string }[] };
    const alertPages = [];
    for (const a of list.items) {
      const page = await this.call(`alert ${a.id}`, `/api/v1/alerts/${encodeURIComponent(a.id)}`, h);
      alertPages.push({ id: a.id, deliveries: JSON.parse(page.body).deliveries });
    }
    const channels = await this.call('channels', '/api/v1/channels', h);
    if (channels.status === 200) {
      for (const c of JSON.parse(channels.body).channels as { name: string }[]) {
        await this.call(`test message ${c.name}`, `/api/v1/channels/${encodeURIComponent(c.name)}/test`, { method: 'POST', headers: this.session() });
      }
    }
    for (const path of ['/api/v1/sources', '/api/v1/stats', '/api/v1/handover', '/api/v1/trends', '/metrics', '/healthz', '/api/v1/ledger', '/api/v1/silences']) {
      await this.call(path, path, h);
    }
    await this.call('ledger CSV (summary)', '/api/v1/ledger.csv', h);
    await this.call('ledger CSV (open risks)', '/api/v1/ledger.csv?sheet=open', h);
    const xlsx = await this.call('ledger XLSX (zipped)', '/api/v1/ledger.xlsx', h);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.raw as unknown as ArrayBuffer);
    const cells: string[] = [];
    wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((c) => void cells.push(String(c.text)))));
    this.answers.push({ what: 'ledger XLSX cells', status: xlsx.status, text: cells.join('\n') });
    const day = beijingDay();
    await this.call('briefing Markdown', `/api/v1/briefing?day=${day}&format=md`, h);
    await this.call('briefing HTML', `/api/v1/briefing?day=${day}`, h);
    await this.call('logout', '/api/v1/logout', { method: 'POST', headers: this.session() });
    return { alertPages };
  }
}

/** One run of the embedded pipeline with failing channels; `queue` is the BullMQ spec, if any. */
async function scenario(t: { dir: string }, queue?: string) {
  const rx = await receivers();
  const secrets: Secrets = {
    webhookSecret: 'whsec_' + randomBytes(24).toString('base64'),
    dingtalkToken: randomBytes(32).toString('hex'),
    dingtalkSecret: 'SEC' + randomBytes(32).toString('hex'),
    wecomKey: randomUUID(),
    provinceWecomKey: randomUUID(),
    password: `Pw-${randomBytes(12).toString('base64url')}`,
  };
  const saved = Object.fromEntries(Object.values(ENV).map((k) => [k, process.env[k]]));
  for (const [name, env] of Object.entries(ENV)) process.env[env] = secrets[name];
  const pipelineLog = capturedLog();
  const deskLog = capturedLog();
  const dataDir = join(t.dir, 'data');
  let running: RunningPipeline | null = null;
  let desk: Awaited<ReturnType<typeof startDesk>> | null = null;
  let db: ReturnType<typeof acquireDatabase> | null = null;
  try {
    running = await startPipeline({ pipelineFile: writePipeline(t.dir, rx.port), dataDir, port: 0, log: pipelineLog.log, demoAccount: false, queue });
    db = acquireDatabase(dataFile(dataDir));
    const accounts = new Accounts(db);
    await accounts.addUser('值班管理员', 'admin', undefined, secrets.password);
    secrets.pushToken = accounts.createToken('yudu-12345', 'push').token;
    // The runner starts its desk without a logger (see the report); this one, over the same
    // engines and accounts, logs every request into deskLog, so the desk's own log is swept too.
    desk = await startDesk(
      { store: running.store, queue: running.queue, accounts, ingestComplaints: running.ingest, health: async () => ({ store: 'ok' }) },
      { port: 0, log: deskLog.log },
    );
    const users = [new DeskUser(running.deskUrl!, { admin: '值班管理员', password: secrets.password, pushToken: secrets.pushToken }), new DeskUser(desk.url, { admin: '值班管理员', password: secrets.password, pushToken: secrets.pushToken })];
    await users[0]!.send('3607312026112900001');
    await users[1]!.send('3607312026112900101');
    secrets.sessionCookie = users[0]!.cookie.split(';')[0]!.split('=')[1]!;
    secrets.loggingDeskSessionCookie = users[1]!.cookie.split(';')[0]!.split('=')[1]!;
    await running.drained();
    // every channel has failed at least once: the robot refused, the mistyped fallback, the 500s
    const deliveries = await eventually(async () => {
      const all = (await running!.store.searchAlerts({ limit: 100, offset: 0 })).items;
      const ds = (await Promise.all(all.map((a) => running!.queue.deliveriesFor(a.id)))).flat();
      const failed = (re: RegExp) => ds.some((d) => d.lastError && re.test(d.lastError));
      return failed(/310000/) && failed(/Failed to parse URL/) && failed(/zhjg-hub: HTTP 500/) ? ds : null;
    }, 30_000);
    const pages = [await users[0]!.read(), await users[1]!.read()];
    const hash = (db.prepare('SELECT password_hash FROM desk_users WHERE name = ?').get('值班管理员') as { password_hash: string }).password_hash;
    const outbox = queue ? [] : (db.prepare('SELECT * FROM outbox').all() as Record<string, unknown>[]);
    let redisDump = '';
    if (queue) redisDump = await dumpRedis(queue);
    return { secrets, hash, rx, deliveries, pages, answers: users.flatMap((u) => u.answers), pipelineLog: pipelineLog.lines, deskLog: deskLog.lines, outbox, redisDump, dataDir };
  } finally {
    await desk?.close();
    if (db) releaseDatabase(db);
    await running?.stop();
    await new Promise<void>((r) => rx.server.close(() => r()));
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Every key under the queue's prefix with its contents (job hashes, lists, sets, streams), as text. */
async function dumpRedis(spec: string): Promise<string> {
  const { url, prefix } = parseRedisSpec(spec);
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const k of keys) {
        const type = await redis.type(k);
        let v: unknown;
        if (type === 'hash') v = await redis.hgetall(k);
        else if (type === 'list') v = await redis.lrange(k, 0, -1);
        else if (type === 'set') v = await redis.smembers(k);
        else if (type === 'zset') v = await redis.zrange(k, 0, -1, 'WITHSCORES');
        else if (type === 'string') v = await redis.get(k);
        else if (type === 'stream') v = await redis.xrange(k, '-', '+');
        out.push(`${k} ${type} ${JSON.stringify(v)}`);
      }
    } while (cursor !== '0');
    return out.join('\n');
  } finally {
    redis.disconnect();
  }
}

type Run = Awaited<ReturnType<typeof scenario>>;

/** The sweep itself; returns how many places were searched, for the report. */
function sweep(run: Run, label: string): number {
  const { secrets, hash } = run;
  const withHash = { ...secrets, passwordHash: hash };
  let places = 0;
  const leaks: string[] = [];
  const none = (where: string, text: string, s: Secrets = withHash) => {
    places++;
    for (const name of found(text, s)) leaks.push(`${name} in ${where}`);
  };

  // the scenario did what it claims: secrets in use, deliveries failed, logs written
  expect(run.rx.got.some((g) => g.path.includes(secrets.dingtalkToken!) && g.path.includes(`sign=${encodeURIComponent(dingtalkSign(secrets.dingtalkSecret!, Number(/timestamp=(\d+)/.exec(g.path)![1])))}`))).toBe(true);
  const hook = run.rx.got.find((g) => g.path === '/hook/alerts');
  expect(hook && verifyStandardWebhook(secrets.webhookSecret!, hook.headers, hook.body), 'the hub got signed events').toBe(true);
  expect(run.pipelineLog.length).toBeGreaterThan(0);
  expect(run.deskLog.some((l) => l.includes('desk login failed'))).toBe(true);
  expect(run.pages.flatMap((p) => p.alertPages).some((p) => p.deliveries.some((d) => d.lastError))).toBe(true);
  const answer = (what: string) => run.answers.filter((a) => a.what === what);
  for (const what of ['ledger CSV (open risks)', 'ledger XLSX cells', 'briefing Markdown', 'briefing HTML']) {
    expect(answer(what).map((a) => a.status), what).toEqual([200, 200]);
    expect(answer(what).every((a) => a.text.includes('于都县')), `${what} lists the alert`).toBe(true);
  }
  expect(answer(`test message yudu-county/dingtalk`).map((a) => a.status)).toEqual([200]);

  // what the receivers got never carries another channel's secret, nor the signing secret in the body
  for (const g of run.rx.got) {
    none(`the request body sent to ${g.path.split('?')[0]}`, g.body);
  }
  none('the pipeline log', run.pipelineLog.join(''));
  none('the desk request log', run.deskLog.join(''));
  for (const a of run.answers) {
    // a session cookie is shown to its owner once, at login; nothing else shows it
    none(`the answer to "${a.what}" (HTTP ${a.status})`, a.text);
  }
  for (const d of run.deliveries) none(`the queue's state of delivery ${d.id}`, JSON.stringify(d));
  if (run.outbox.length) none('the outbox rows', JSON.stringify(run.outbox));
  if (run.redisDump) none('the BullMQ keys', run.redisDump);
  // at rest: the data file and its WAL, byte for byte (the hash belongs in its own row only)
  for (const f of readdirSync(run.dataDir)) {
    places++;
    for (const name of foundInBytes(readFileSync(join(run.dataDir, f)), secrets)) leaks.push(`${name} in the data file ${f}`);
  }
  expect(leaks, `${label}: secrets found`).toEqual([]);
  return places;
}

describe('no secret leaves the process: embedded engines (SQLite outbox)', () => {
  const t = tempDir('sentinel-faults-secrets-');
  let run: Run;
  beforeAll(async () => {
    run = await scenario(t);
  }, 120_000);
  afterAll(() => t.cleanup());

  it('delivery errors on the alert page name the failure, with the robot tokens masked', () => {
    const errors = run.pages[0]!.alertPages.flatMap((p) => p.deliveries.map((d) => d.lastError ?? '')).filter(Boolean);
    expect(errors.some((e) => /Failed to parse URL from http:\/\/127\.0\.0\.1:99999\/cgi-bin\/webhook\/send\?key=\*\*\*/.test(e))).toBe(true);
    expect(errors.some((e) => /310000 sign not match/.test(e) && e.includes('access_token=***'))).toBe(true);
    expect(errors.some((e) => /HTTP 500/.test(e))).toBe(true);
  });

  it('logs, API answers and errors, exports, the outbox and the data file hold none of the secrets', () => {
    expect(run.outbox.some((r) => r.last_error)).toBe(true);
    const places = sweep(run, 'embedded');
    process.stdout.write(`[faults] secrets sweep (embedded) | rounds 1 | ${Object.keys(run.secrets).length} secrets + password hash | ${places} places searched | found 0 | ok\n`);
  });
});

const redisUrl = inject('redisUrl');

describe.skipIf(!redisUrl)('no secret leaves the process: BullMQ job data (redis peer)', () => {
  const t = tempDir('sentinel-faults-secrets-bull-');
  let run: Run;
  beforeAll(async () => {
    run = await scenario(t, `${redisUrl}?prefix=secrets-${randomUUID().slice(0, 8)}`);
  }, 120_000);
  afterAll(() => t.cleanup());

  it('job data, failed reasons and stack traces in Redis hold none of the secrets', () => {
    expect(run.redisDump).toMatch(/failedReason/);
    const places = sweep(run, 'bullmq');
    process.stdout.write(`[faults] secrets sweep (BullMQ) | rounds 1 | ${Object.keys(run.secrets).length} secrets + password hash | ${places} places searched | found 0 | ok\n`);
  });
});

describe('connection strings and channel URLs in error messages', () => {
  const password = `redis-${randomBytes(9).toString('base64url')}`;

  it('a Redis password never appears in a SENTINEL_QUEUE error', async () => {
    for (const spec of [`redis://sentinel:${password}@127.0.0.1:6379/?db=2`, `redis://:${password}@127.0.0.1:6379/x/y`, `rediss://u:${password}@/0`]) {
      let message = '';
      try {
        parseRedisSpec(spec);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/SENTINEL_QUEUE=redis/);
      expect(message).not.toContain(password);
    }
    await expect(createQueue(`amqp://u:${password}@mq:5672`, ':memory:')).rejects.toThrow(/SENTINEL_QUEUE=amqp:\/\/u:\*\*\*@mq/);
  });

  it('the token parts of a channel URL are found, so they can be masked; ordinary words are left alone', () => {
    const token = randomBytes(32).toString('hex');
    const hook = randomUUID();
    expect(urlSecrets(`https://oapi.dingtalk.com/robot/send?access_token=${token}&timestamp=1&sign=abc%2Bdef`)).toEqual([token, 'abc%2Bdef']);
    expect(urlSecrets(`https://open.feishu.cn/open-apis/bot/v2/hook/${hook}`)).toEqual([hook]);
    expect(urlSecrets('https://hub:p4ss@zhjg.example.cn/api/alerts')).toEqual(['hub', 'p4ss']);
    // a URL Node cannot parse is exactly the one an error quotes
    expect(urlSecrets(`http://127.0.0.1:99999/cgi-bin/webhook/send?key=${hook}`)).toEqual([hook]);
    expect(redact(`POST x: Failed to parse URL from http://127.0.0.1:99999/send?key=${encodeURIComponent(hook)}`, [hook])).toBe('POST x: Failed to parse URL from http://127.0.0.1:99999/send?key=***');
  });
});
