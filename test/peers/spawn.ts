import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export interface Peer {
  pid: number;
  match: RegExpMatchArray;
  /** Ends the process (SIGTERM, then SIGKILL after 3 s) and waits for it. */
  stop(): Promise<void>;
  /** Sends a signal without waiting (SIGKILL / SIGSTOP / SIGCONT in outage tests). */
  signal(sig: NodeJS.Signals): void;
  exited: Promise<void>;
}

export async function toolAvailable(cmd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/**
 * A missing peer skips its suites loudly on a workstation; in CI (`CI=true`) it fails the run,
 * so a misconfigured pipeline cannot pass by skipping the distributed engines.
 */
export function peerMissing(tool: string, install: string, suites: string): void {
  const msg = `${tool} is not installed: ${suites} cannot run (${install}).`;
  if (process.env.CI === 'true') throw new Error(`${msg} CI=true, so this fails the run instead of skipping.`);
  const bar = '!'.repeat(Math.min(100, msg.length + 12));
  console.warn(`\n${bar}\n!!!  SKIPPING: ${msg}\n${bar}\n`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a process and resolves once `ready` matches its output; keeps draining output after. */
export function spawnPeer(
  cmd: string,
  args: string[],
  o: { ready: RegExp; stream: 'stdout' | 'stderr'; what: string; timeoutMs?: number },
): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    let done = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // If the test runner dies without its teardown, the peer must not outlive it.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    void exited.then(() => process.off('exit', reap));
    const fail = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${o.what} (${cmd} ${args.join(' ')}): ${why}\n${seen.slice(-2_000)}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${o.timeoutMs ?? 15_000} ms`), o.timeoutMs ?? 15_000);
    const onData = (chunk: Buffer) => {
      if (done) return; // drained and discarded so the pipe never fills
      seen += chunk.toString('utf8');
      const m = seen.match(o.ready);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      resolve({
        pid: child.pid!,
        match: m,
        exited,
        signal: (sig) => void child.kill(sig),
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGCONT');
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
          await exited;
          clearTimeout(t);
        },
      });
    };
    child.stdout!.on('data', o.stream === 'stdout' ? onData : () => undefined);
    child.stderr!.on('data', o.stream === 'stderr' ? onData : () => undefined);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, sig) => fail(`exited early (code ${code}, signal ${sig})`));
  });
}
