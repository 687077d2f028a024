import { Command, Option } from 'commander';
import { Accounts, AccountError } from '../auth/accounts.ts';
import { ROLES, TOKEN_ROLES } from '../auth/roles.ts';
import { acquireDatabase, releaseDatabase } from '../store/sqlite-db.ts';
import { dataFile } from '../pipeline/runner.ts';
import { dataDir, EXIT_USAGE } from './common.ts';

/** Accounts live in the embedded data file even when the store is Elasticsearch: they are the desk's, not the store's. */
async function withAccounts<T>(fn: (a: Accounts) => Promise<T>): Promise<T> {
  const db = acquireDatabase(dataFile(dataDir()));
  try {
    return await fn(new Accounts(db));
  } finally {
    releaseDatabase(db);
  }
}

/** The first line of stdin, without its line end: `printf '%s\n' "$PW" | sentinel user add …`. */
async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('密码 / password: ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

const roleOption = () => new Option('--role <role>', 'officer | county | admin').choices([...ROLES]).makeOptionMandatory();
const tokenRoleOption = () =>
  new Option('--role <role>', 'officer | county | admin | push (a sending system: may only POST /api/v1/complaints)').choices([...TOKEN_ROLES]).makeOptionMandatory();

export function registerUsers(program: Command): void {
  const user = program.command('user').description('desk accounts (stored in the data file, passwords as argon2id)');

  user
    .command('add')
    .description('add a desk user; the password is read from stdin (never from the command line)')
    .argument('<name>', 'login name (shown in alert history)')
    .addOption(roleOption())
    .option('--region <code>', 'GB/T 2260 code of a county account, e.g. 360102')
    .option('--password-stdin', 'read the password from the first line of stdin', false)
    .action(async (name: string, o: { role: string; region?: string; passwordStdin: boolean }, cmd: Command) => {
      if (!o.passwordStdin) cmd.error('user add needs --password-stdin (passwords are never taken as arguments)', { exitCode: EXIT_USAGE });
      if (o.role === 'county' && !o.region) cmd.error('a county user needs --region CODE', { exitCode: EXIT_USAGE });
      if (o.role !== 'county' && o.region) cmd.error('--region is for county users only', { exitCode: EXIT_USAGE });
      const password = await readPasswordFromStdin();
      try {
        const u = await withAccounts((a) => a.addUser(name, o.role, o.region, password));
        process.stdout.write(`已添加用户 ${u.name}（${u.role}${u.region ? `，区域 ${u.region}` : ''}）\n`);
      } catch (err) {
        if (err instanceof AccountError) cmd.error(`user add: ${err.message}`, { exitCode: EXIT_USAGE });
        throw err;
      }
    });

  user
    .command('list')
    .description('list desk users')
    .action(async () => {
      const users = await withAccounts(async (a) => a.listUsers());
      for (const u of users) process.stdout.write(`${u.name}\t${u.role}\t${u.region ?? ''}\t${u.createdAt}\n`);
    });

  user
    .command('remove')
    .description('remove a desk user (ends their sessions)')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const ok = await withAccounts(async (a) => a.removeUser(name));
      if (!ok) cmd.error(`no user '${name}'`, { exitCode: 1 });
      process.stdout.write(`已删除用户 ${name}\n`);
    });

  const token = program.command('token').description('API tokens for machines (sent as Authorization: Bearer)');

  token
    .command('create')
    .description('create an API token; it is printed once, on the last line, and stored only as a hash')
    .requiredOption('--name <name>', 'what uses the token, e.g. province-dashboard')
    .addOption(tokenRoleOption())
    .option('--region <code>', 'GB/T 2260 code for a county token')
    .action(async (o: { name: string; role: string; region?: string }, cmd: Command) => {
      if (o.role === 'county' && !o.region) cmd.error('a county token needs --region CODE', { exitCode: EXIT_USAGE });
      if (o.role !== 'county' && o.region) cmd.error('--region is for county tokens only', { exitCode: EXIT_USAGE });
      try {
        const t = await withAccounts(async (a) => a.createToken(o.name, o.role, o.region));
        process.stdout.write(`token ${t.info.name} (${t.info.role}${t.info.region ? ` ${t.info.region}` : ''}) — copy it now, it is not shown again:\n${t.token}\n`);
      } catch (err) {
        if (err instanceof AccountError) cmd.error(`token create: ${err.message}`, { exitCode: EXIT_USAGE });
        throw err;
      }
    });

  token
    .command('list')
    .description('list API tokens (names only)')
    .action(async () => {
      const ts = await withAccounts(async (a) => a.listTokens());
      for (const t of ts) process.stdout.write(`${t.name}\t${t.role}\t${t.region ?? ''}\t${t.createdAt}\t${t.lastUsedAt ?? '-'}\n`);
    });

  token
    .command('revoke')
    .description('revoke an API token by name')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const ok = await withAccounts(async (a) => a.revokeToken(name));
      if (!ok) cmd.error(`no token '${name}'`, { exitCode: 1 });
      process.stdout.write(`已吊销 ${name}\n`);
    });
}
