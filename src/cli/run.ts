import { Command, Option } from 'commander';
import { ROLES, startPipeline, type Role } from '../pipeline/runner.ts';
import { DEFAULT_PIPELINE, dataDir, logger, port } from './common.ts';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline: sources → process → alerts → store, the duty desk and notifications')
    .option('--pipeline <file>', 'pipeline file', DEFAULT_PIPELINE)
    .addOption(new Option('--role <role>', 'which stages this process runs').choices(ROLES).default('all'))
    .option('--bus <url>', 'bus engine (default: $SENTINEL_BUS, else embedded)')
    .option('--store <url>', 'store engine (default: $SENTINEL_STORE, else embedded)')
    .option('--queue <url>', 'queue engine (default: $SENTINEL_QUEUE, else embedded)')
    .option('--port <port>', 'duty desk port (default: $PORT, else 8080)', port)
    .option('--host <host>', 'duty desk address (default: $HOST, else 127.0.0.1)')
    .action(async (o: { pipeline: string; role: Role; bus?: string; store?: string; queue?: string; port?: number; host?: string }) => {
      const log = logger();
      const running = await startPipeline({
        pipelineFile: o.pipeline,
        roles: [o.role],
        dataDir: dataDir(),
        bus: o.bus ?? process.env.SENTINEL_BUS,
        store: o.store ?? process.env.SENTINEL_STORE,
        queue: o.queue ?? process.env.SENTINEL_QUEUE,
        port: o.port ?? (process.env.PORT ? port(process.env.PORT) : 8080),
        host: o.host ?? process.env.HOST ?? '127.0.0.1',
        webhookUrl: process.env.SENTINEL_WEBHOOK_URL,
        webhookSecret: process.env.SENTINEL_WEBHOOK_SECRET,
        watchRules: true,
        log,
      });
      if (running.deskUrl) process.stderr.write(`\n  食安哨兵 duty desk: ${running.deskUrl}\n\n`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        const deadline = setTimeout(() => process.exit(1), 15_000);
        await running.stop();
        clearTimeout(deadline);
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      // A consumer whose engine gave up (a broker gone past the bounded retries) must not leave a
      // silently idle process: exit non-zero so systemd / docker / k8s restart it and people see it.
      setInterval(() => {
        const err = running.fatal();
        if (!err) return;
        log.fatal({ err: err.message }, 'a pipeline stage gave up; exiting so the supervisor restarts this process');
        void running.stop().finally(() => process.exit(3));
        setTimeout(() => process.exit(3), 10_000).unref();
      }, 2_000).unref();
      process.on('SIGHUP', () => {
        running.reloadRules().catch((err) => log.error({ err: (err as Error).message }, 'rules reload failed; keeping the last good rules'));
      });
      await new Promise(() => {});
    });
}
