import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The pipeline's Prometheus metrics, one registry per running pipeline so tests and several
 * pipelines in one process never share counters.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sentinel_node_' });
  const m = {
    registry,
    polls: new Counter({ name: 'sentinel_source_polls_total', help: 'Source polls by outcome', labelNames: ['source', 'outcome'], registers: [registry] }),
    itemsSeen: new Counter({ name: 'sentinel_source_items_total', help: 'Items a source returned, by whether they were new', labelNames: ['source', 'state'], registers: [registry] }),
    lastSuccess: new Gauge({ name: 'sentinel_source_last_success_timestamp_seconds', help: 'Unix time of the last successful poll', labelNames: ['source'], registers: [registry] }),
    processed: new Counter({ name: 'sentinel_items_processed_total', help: 'Items scored by the process stage, by level', labelNames: ['level'], registers: [registry] }),
    processSeconds: new Histogram({
      name: 'sentinel_process_batch_seconds',
      help: 'Time to process one bus batch',
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    alerts: new Counter({ name: 'sentinel_alerts_written_total', help: 'Alerts raised or refreshed, by level', labelNames: ['level'], registers: [registry] }),
    lag: new Gauge({ name: 'sentinel_bus_lag_records', help: 'Records published but not yet committed by a consumer group', labelNames: ['topic', 'group'], registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
