import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Starts the worker thread module `name` of this folder: the compiled `.js` beside this module, or the
 * `.ts` source when running under tsx: worker threads do not inherit tsx's loader, so the source is
 * loaded after registering it.
 */
export function startWorker(name: string, workerData?: unknown): Worker {
  const extension = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./${name}${extension}`, import.meta.url);
  if (extension === '.js') return new Worker(entry, { workerData });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
