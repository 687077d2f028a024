import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOYED_ENV, DEPLOYED_NODE_OPTIONS } from '../bench/deployed.ts';

/*
 * The settings the pipeline is measured with (test/bench/deployed.ts: the allocator for every
 * pipeline figure, the young generation for the main thread) are the ones it ships with: the start
 * command and every docker-compose service built from the sentinel image.
 */
const root = new URL('../../', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, root), 'utf8');

describe('deployed memory settings', () => {
  it('npm start runs the pipeline with the benchmark\'s settings unless the operator chose others', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const arenas = DEPLOYED_ENV['MALLOC_ARENA_MAX'];
    expect(scripts['start']!.startsWith(`MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${arenas}} NODE_OPTIONS="${DEPLOYED_NODE_OPTIONS} \${NODE_OPTIONS:-}" node bin/sentinel.js run `), scripts['start']).toBe(true);
  });

  /** The docker-compose services built from the sentinel image, with their environment. */
  const sentinelServices = () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { image?: string; environment?: Record<string, string> }> };
    const sentinel = Object.entries(compose.services).filter(([, s]) => s.image === 'food-safety-sentinel:local');
    expect(sentinel.length).toBeGreaterThan(0);
    return sentinel;
  };

  it('every sentinel service in docker-compose.yml sets the benchmark\'s environment', () => {
    for (const [name, s] of sentinelServices()) for (const [k, v] of Object.entries(DEPLOYED_ENV)) expect(s.environment?.[k], `${name}: ${k}`).toBe(v);
  });

  it('every sentinel service in docker-compose.yml gives the main thread the same young generation as npm start', () => {
    for (const [name, s] of sentinelServices()) expect(s.environment?.['NODE_OPTIONS'], name).toBe(DEPLOYED_NODE_OPTIONS);
  });
});
