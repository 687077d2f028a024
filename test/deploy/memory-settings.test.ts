import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/*
 * The allocator setting the pipeline is measured with (bench figure 5) is the one it ships with:
 * the start command and every docker-compose service built from the sentinel image.
 */
const root = new URL('../../', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, root), 'utf8');

describe('deployed memory settings', () => {
  it('npm start runs the pipeline with two malloc arenas unless the operator chose another number', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts['start']).toMatch(/^MALLOC_ARENA_MAX=\$\{MALLOC_ARENA_MAX:-2\} NODE_OPTIONS="--max-semi-space-size=4 \$\{NODE_OPTIONS:-\}" node bin\/sentinel\.js run /);
  });

  /** The docker-compose services built from the sentinel image, with their environment. */
  const sentinelServices = () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { image?: string; environment?: Record<string, string> }> };
    const sentinel = Object.entries(compose.services).filter(([, s]) => s.image === 'food-safety-sentinel:local');
    expect(sentinel.length).toBeGreaterThan(0);
    return sentinel;
  };

  it('every sentinel service in docker-compose.yml sets MALLOC_ARENA_MAX=2', () => {
    for (const [name, s] of sentinelServices()) expect(s.environment?.['MALLOC_ARENA_MAX'], name).toBe('2');
  });

  it('every sentinel service in docker-compose.yml gives the main thread the same young generation as npm start', () => {
    for (const [name, s] of sentinelServices()) expect(s.environment?.['NODE_OPTIONS'], name).toBe('--max-semi-space-size=4');
  });

  it('the benchmark gives its figures the same setting', () => {
    expect(read('test/bench/run.ts')).toMatch(/const DEPLOYED_ENV = \{ MALLOC_ARENA_MAX: '2' \}/);
    expect(read('test/bench/run.ts')).toMatch(/const DEPLOYED_NODE_OPTIONS = '--max-semi-space-size=4'/);
  });
});
