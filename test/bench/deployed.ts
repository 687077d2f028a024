/**
 * The environment the shipped start command and docker-compose.yml give the pipeline (see
 * README, "Memory"), so the figures measure what is deployed; a value set by the caller wins.
 * test/deploy/memory-settings.test.ts checks package.json and docker-compose.yml against these.
 */
export const DEPLOYED_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * Node options the start command and docker-compose.yml add, for the figures that run the
 * pipeline's main thread as deployed. Figures 1, 2 and 8 time the segmenter and the process stage
 * themselves on the child's main thread and keep Node's defaults (the deployed process stage runs
 * in a worker with its own heap limits).
 */
export const DEPLOYED_NODE_OPTIONS = '--max-semi-space-size=4';
