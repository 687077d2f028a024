import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

/**
 * The only files the desk serves, by URL name → file in src/desk/ui/. Request paths are looked
 * up here and never joined onto the directory, so `..`, encoded slashes and stray files in ui/
 * cannot be reached.
 */
export const UI_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'login.html': { file: 'login.html', type: 'text/html; charset=utf-8' },
  'trends.html': { file: 'trends.html', type: 'text/html; charset=utf-8' },
  'ledger.html': { file: 'ledger.html', type: 'text/html; charset=utf-8' },
  'handover.html': { file: 'handover.html', type: 'text/html; charset=utf-8' },
  'desk.css': { file: 'desk.css', type: 'text/css; charset=utf-8' },
  'briefing.css': { file: 'briefing.css', type: 'text/css; charset=utf-8' },
  'desk.js': { file: 'desk.js', type: 'text/javascript; charset=utf-8' },
  'format.js': { file: 'format.js', type: 'text/javascript; charset=utf-8' },
  'detail.js': { file: 'detail.js', type: 'text/javascript; charset=utf-8' },
  'dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  'api.js': { file: 'api.js', type: 'text/javascript; charset=utf-8' },
  'live.js': { file: 'live.js', type: 'text/javascript; charset=utf-8' },
  'nav.js': { file: 'nav.js', type: 'text/javascript; charset=utf-8' },
  'login.js': { file: 'login.js', type: 'text/javascript; charset=utf-8' },
  'trends.js': { file: 'trends.js', type: 'text/javascript; charset=utf-8' },
  'ledger.js': { file: 'ledger.js', type: 'text/javascript; charset=utf-8' },
  'handover.js': { file: 'handover.js', type: 'text/javascript; charset=utf-8' },
  'briefing.js': { file: 'briefing.js', type: 'text/javascript; charset=utf-8' },
  'rules.html': { file: 'rules.html', type: 'text/html; charset=utf-8' },
  'rules.js': { file: 'rules.js', type: 'text/javascript; charset=utf-8' },
  'regions.js': { file: 'regions.js', type: 'text/javascript; charset=utf-8' },
  'channels.html': { file: 'channels.html', type: 'text/html; charset=utf-8' },
  'channels.js': { file: 'channels.js', type: 'text/javascript; charset=utf-8' },
  'channels.css': { file: 'channels.css', type: 'text/css; charset=utf-8' },
  'sources.html': { file: 'sources.html', type: 'text/html; charset=utf-8' },
  'sources.js': { file: 'sources.js', type: 'text/javascript; charset=utf-8' },
};

/** Page URL → its HTML file. Every page but /login needs a session (see access.ts). */
export const PAGES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/login': 'login.html',
  '/trends': 'trends.html',
  '/ledger': 'ledger.html',
  '/handover': 'handover.html',
  '/rules': 'rules.html',
  '/channels': 'channels.html',
  '/sources': 'sources.html',
};

const UI_DIR = new URL('./ui/', import.meta.url);

/**
 * ECharts is served from the installed package through this one explicit route (no CDN: the
 * CSP allows only this origin, and duty rooms are often on an intranet).
 */
function echartsPath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  } catch {
    return null;
  }
}

export function registerUi(app: FastifyInstance): void {
  // Read per request rather than cached: the files are small and an edited page shows on reload.
  const send = async (name: string) => {
    const entry = UI_FILES[name];
    if (!entry) return null;
    return { body: await readFile(new URL(entry.file, UI_DIR)), type: entry.type };
  };

  for (const [path, file] of Object.entries(PAGES)) {
    app.get(path, async (_req, reply) => {
      const f = await send(file);
      return reply.type(f!.type).header('cache-control', 'no-cache').send(f!.body);
    });
  }

  app.get('/ui/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const f = Object.hasOwn(UI_FILES, name) ? await send(name) : null;
    if (!f) return reply.code(404).send({ error: 'not found', path: req.url });
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });

  let echarts: Promise<Buffer> | null = null;
  app.get('/vendor/echarts.min.js', async (_req, reply) => {
    const path = echartsPath();
    if (!path) return reply.code(404).send({ error: 'echarts is not installed' });
    echarts ??= readFile(path);
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(await echarts);
  });
}
