import type { TestProject } from 'vitest/node';
import { freePort, peerMissing, spawnPeer, toolAvailable, type Peer } from './spawn.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:PORT` of a throw-away redis-server, or null when it is not installed. */
    redisUrl: string | null;
  }
}

/**
 * A Redis peer for tests on a free port (never the machine's 6379). Without `dir` it keeps
 * nothing on disk; with `dir` it writes an append-only file there (fsync on every write), so a
 * test can kill it and start it again on the same port and data, as a restarted server would.
 */
export async function startRedis(opts: { port?: number; dir?: string } = {}): Promise<Peer & { url: string; port: number }> {
  const port = opts.port ?? (await freePort());
  const persistence = opts.dir
    ? ['--dir', opts.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--save', '', '--appendonly', 'no'];
  const peer = await spawnPeer(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--maxmemory-policy', 'noeviction', ...persistence],
    { ready: /Ready to accept connections/, stream: 'stdout', what: 'redis-server' },
  );
  return { ...peer, url: `redis://127.0.0.1:${port}`, port };
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  if (!(await toolAvailable('redis-server'))) {
    peerMissing('redis-server', 'apt-get install redis-server', 'BullMQ queue tests');
    project.provide('redisUrl', null);
    return;
  }
  const peer = await startRedis();
  project.provide('redisUrl', peer.url);
  return () => peer.stop();
}
