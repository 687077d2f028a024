import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from 'commander';
import pino, { type Logger } from 'pino';

/** Wrong usage exits 2 (as POSIX tools do); a failure of the work itself exits 1. */
export const EXIT_USAGE = 2;

/** The repository root, so `npx sentinel` finds the bundled pipeline and rules from anywhere. */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DEFAULT_PIPELINE = resolve(PROJECT_ROOT, 'pipelines/default.yaml');
export const DEFAULT_RULES = resolve(PROJECT_ROOT, 'rules');

export function dataDir(): string {
  return resolve(process.env.SENTINEL_DATA || 'data');
}

export function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number 0–65535, got '${v}'`);
  return n;
}

/** Logs go to stderr so commands that print data (score, fetch) keep stdout clean. */
export function logger(level = process.env.LOG_LEVEL || 'info'): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.secret', '*.password', '*.token', 'headers.authorization', 'secret'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}

export async function* stdinLines(): AsyncGenerator<string> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

export function writeLine(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
