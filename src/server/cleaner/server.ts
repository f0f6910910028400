/** Starting the cleaner's web server on the loopback interface. */
import type { FastifyInstance } from 'fastify';
import type { Cleaner } from '../../clean/index.js';
import { cleanerApp } from './app.js';
import { loadPage } from './page.js';

export interface RunningCleaner {
  /** Where the page is, e.g. http://127.0.0.1:8765/. */
  url: string;
  app: FastifyInstance;
}

/**
 * Serves `cleaner` on 127.0.0.1:`port` (0: any free port). Only loopback: the API moves and deletes files.
 * @throws when the port is taken.
 */
export async function startCleanerServer(cleaner: Cleaner, port: number): Promise<RunningCleaner> {
  const app = cleanerApp(cleaner, await loadPage());
  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return { url: `http://127.0.0.1:${bound}/`, app };
}
