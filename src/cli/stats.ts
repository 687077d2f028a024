import { Command } from 'commander';
import { createStore } from '../store/factory.ts';
import { dataFile } from '../pipeline/runner.ts';
import { dataDir } from './common.ts';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('counts of stored items and alerts')
    .option('--json', 'print {items:{total,bySource,byKind}, alerts:{total,byLevel,byStatus}}', false)
    .action(async (o: { json: boolean }) => {
      // stats needs no segmentation: queries here carry no text
      const store = await createStore(process.env.SENTINEL_STORE, dataFile(dataDir()), (t) => [t]);
      try {
        const s = await store.stats();
        if (o.json) {
          process.stdout.write(JSON.stringify(s) + '\n');
          return;
        }
        const fmt = (r: Record<string, number>) =>
          Object.entries(r).map(([k, n]) => `${k} ${n}`).join('，') || '—';
        process.stdout.write(
          [
            `条目 items:  ${s.items.total}`,
            `  按来源: ${fmt(s.items.bySource)}`,
            `  按类型: ${fmt(s.items.byKind)}`,
            `预警 alerts: ${s.alerts.total}`,
            `  按等级: ${fmt(s.alerts.byLevel)}`,
            `  按状态: ${fmt(s.alerts.byStatus)}`,
          ].join('\n') + '\n',
        );
      } finally {
        await store.close();
      }
    });
}
