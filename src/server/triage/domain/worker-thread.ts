import { Worker } from 'node:worker_threads';
import { MODULE_EXTENSION } from '../../../util/package-paths.js';

/**
 * Starts the worker thread module `name` of this folder: the compiled `.js` beside this module, or the
 * `.ts` source when running under tsx: worker threads do not inherit tsx's loader, so the source is
 * loaded after registering it.
 */
export function startWorker(name: string, workerData?: unknown): Worker {
  const entry = new URL(`./${name}${MODULE_EXTENSION}`, import.meta.url);
  if (MODULE_EXTENSION === '.js') return new Worker(entry, { workerData });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
