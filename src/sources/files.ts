import { readFile, stat } from 'node:fs/promises';
import { SourceError } from './errors.ts';

/** Reads a local source file whole, refusing files over the cap before reading them. */
export async function readLocalFile(file: string, maxBytes: number): Promise<Buffer> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new SourceError(file, 'not a file');
    if (st.size > maxBytes) throw new SourceError(file, `file of ${st.size} bytes exceeds the ${maxBytes}-byte limit`);
    return await readFile(file);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new SourceError(file, code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
