import { resolve } from 'node:path';
import { Command } from 'commander';
import { startPipeline } from '../pipeline/runner.ts';
import { createSource } from '../sources/registry.ts';
import { DEFAULT_PIPELINE, dataDir, logger } from './common.ts';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('import one hotline export (CSV / JSONL) through the pipeline into the store; idempotent')
    .argument('<file>', 'hotline export file')
    .option('--source <id>', 'source id the records belong to', 'hotline-12315')
    .option('--pipeline <file>', 'pipeline whose rules and settings apply', DEFAULT_PIPELINE)
    .action(async (file: string, o: { source: string; pipeline: string }) => {
      const log = logger(process.env.LOG_LEVEL || 'warn');
      const source = createSource(
        { id: o.source, type: 'hotline', path: resolve(file) },
        { file: '(command line)', path: 'ingest' },
      );
      const running = await startPipeline({
        pipelineFile: o.pipeline,
        roles: ['process', 'alerts'],
        dataDir: dataDir(),
        bus: process.env.SENTINEL_BUS,
        store: process.env.SENTINEL_STORE,
        queue: process.env.SENTINEL_QUEUE,
        log,
      });
      try {
        const items = await source.poll({ signal: AbortSignal.timeout(600_000), now: () => new Date(), baseDir: process.cwd() });
        const { fresh, duplicates } = await running.ingest(items);
        await source.acknowledge?.();
        await running.drained();
        const report = (source as { lastReport?: () => { errors?: unknown[] } }).lastReport?.();
        const rowErrors = report?.errors ?? [];
        process.stdout.write(
          JSON.stringify({ file: resolve(file), source: o.source, records: items.length, new: fresh, duplicates, rowErrors }) + '\n',
        );
        if (rowErrors.length) process.exitCode = 1;
      } finally {
        await running.stop();
      }
    });
}
