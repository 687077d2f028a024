import { describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { storeConformance, tokenize } from './store.suite.ts';
import { ElasticsearchStore } from '../../src/store/elasticsearch.ts';

/**
 * The same conformance suite as the embedded store, against a real Elasticsearch 9 server:
 * `ES_URL=http://localhost:9200 npx vitest run test/conformance/store.elasticsearch.test.ts`
 * (docker: docker.elastic.co/elasticsearch/elasticsearch:9.x, discovery.type=single-node,
 * xpack.security.enabled=false). Every test gets its own index prefix, deleted afterwards.
 */
const url = process.env.ES_URL;

if (!url) {
  console.warn(
    '\n!!! SKIPPED: Elasticsearch store conformance — set ES_URL (e.g. ES_URL=http://localhost:9200) to run the store suite against a real server. Only the mock tests in test/store/elasticsearch.test.ts ran.\n',
  );
  describe.skip('store conformance: Elasticsearch (needs ES_URL)', () => {
    it('runs the shared store suite against a real server', () => {});
  });
} else {
  const run = randomBytes(4).toString('hex');
  let n = 0;
  storeConformance(`Elasticsearch at ${url}`, async () => {
    const prefix = `sentinel-test-${run}-${++n}-`;
    const client = new Client({ node: url });
    // one replica cannot be placed on a single-node test cluster; yellow indices are fine, but keep it green
    const store = new ElasticsearchStore(client, { tokenize, prefix, replicas: 0, ownsClient: false });
    return {
      store,
      cleanup: async () => {
        await store.close();
        // by name: clusters refuse wildcard deletes (action.destructive_requires_name defaults to true)
        const made = await client.indices.get({ index: `${prefix}*`, expand_wildcards: 'all' }, { ignore: [404] });
        const indices = Object.keys(made).filter((k) => k.startsWith(prefix));
        if (indices.length) await client.indices.delete({ index: indices });
        const t = store.names;
        await client.indices.deleteIndexTemplate({ name: [t.itemsTemplate, t.alertsTemplate, t.deadLettersTemplate] }, { ignore: [404] });
        await client.ilm.deleteLifecycle({ name: t.itemsPolicy }, { ignore: [404] });
        await client.close();
      },
    };
  });
}
