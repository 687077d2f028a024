import type { TestProject } from 'vitest/node';
import { peerMissing, spawnPeer, toolAvailable, type Peer } from './spawn.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port[,host:port]` of librdkafka's mock cluster, or null when kcat is not installed. */
    kafkaBrokers: string | null;
  }
}

/**
 * A Kafka peer for tests: librdkafka's in-process mock cluster, hosted by Debian's `kcat`
 * (a consumer on a warm-up topic keeps the process, and so the cluster, alive). It speaks the
 * Kafka protocol on a loopback port; topics auto-create with 4 partitions.
 */
export async function startKafkaMock(opts: { brokers?: number } = {}): Promise<Peer & { brokers: string }> {
  const args = ['-X', `test.mock.num.brokers=${opts.brokers ?? 1}`, '-b', 'x:9092', '-C', '-t', 'sentinel.warmup'];
  // `-d mock` logs every request; only ask for it when debugging the peer itself.
  if (process.env.SENTINEL_KCAT_DEBUG) args.splice(2, 0, '-d', 'mock');
  const peer = await spawnPeer('kcat', args, {
    // "%5|…|MOCK|…: Mock cluster enabled: … replaced with 127.0.0.1:PORT" (or, with -d mock,
    // "… bootstrap.servers=127.0.0.1:PORT")
    ready: /(?:bootstrap\.servers=|replaced with )(\d+\.\d+\.\d+\.\d+:\d+(?:,\d+\.\d+\.\d+\.\d+:\d+)*)/,
    stream: 'stderr',
    what: 'kcat mock cluster',
  });
  return { ...peer, brokers: peer.match[1]! };
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  if (!(await toolAvailable('kcat'))) {
    peerMissing('kcat', 'apt-get install kcat', 'Kafka bus tests');
    project.provide('kafkaBrokers', null);
    return;
  }
  const peer = await startKafkaMock();
  project.provide('kafkaBrokers', peer.brokers);
  return () => peer.stop();
}
