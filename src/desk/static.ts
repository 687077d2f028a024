import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';

/**
 * The only files the desk serves, by URL name → file in src/desk/ui/. Request paths are looked
 * up here and never joined onto the directory, so `..`, encoded slashes and stray files in ui/
 * cannot be reached.
 */
export const UI_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'desk.css': { file: 'desk.css', type: 'text/css; charset=utf-8' },
  'desk.js': { file: 'desk.js', type: 'text/javascript; charset=utf-8' },
  'format.js': { file: 'format.js', type: 'text/javascript; charset=utf-8' },
  'detail.js': { file: 'detail.js', type: 'text/javascript; charset=utf-8' },
  'dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  'api.js': { file: 'api.js', type: 'text/javascript; charset=utf-8' },
};

const UI_DIR = new URL('./ui/', import.meta.url);

export function registerUi(app: FastifyInstance): void {
  // Read per request rather than cached: the files are small and an edited page shows on reload.
  const send = async (name: string) => {
    const entry = UI_FILES[name];
    if (!entry) return null;
    return { body: await readFile(new URL(entry.file, UI_DIR)), type: entry.type };
  };

  app.get('/', async (_req, reply) => {
    const f = await send('index.html');
    return reply.type(f!.type).header('cache-control', 'no-cache').send(f!.body);
  });

  app.get('/ui/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const f = Object.hasOwn(UI_FILES, name) ? await send(name) : null;
    if (!f) return reply.code(404).send({ error: 'not found', path: req.url });
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
}
