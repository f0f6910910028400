/**
 * The worklist app's static files, served as they are from the repository's `src/web/worklist`:
 * `GET /` is its index.html, `GET /assets/<file>` any file in it. tsc does not copy these files into
 * dist/, so the compiled server reads them from the source tree too.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { packagePath } from '../../../util/package-paths.js';

export const WORKLIST_FOLDER = packagePath('src', 'web', 'worklist');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export function worklistAssets(app: FastifyInstance, folder = WORKLIST_FOLDER): void {
  const root = resolve(folder);
  app.get('/', (_request, reply) => sendFile(reply, root, resolve(root, 'index.html')));
  app.get<{ Params: { '*': string } }>('/assets/*', (request, reply) => {
    const path = resolve(root, request.params['*']);
    // Never outside the folder, whatever `..` or encoded separators the URL holds.
    if (!path.startsWith(root + sep)) return reply.code(404).send({ error: 'no such asset' });
    return sendFile(reply, root, path);
  });
}

async function sendFile(reply: FastifyReply, root: string, path: string): Promise<FastifyReply> {
  const isFile = (await stat(path).catch(() => undefined))?.isFile() ?? false;
  if (!isFile) return reply.code(404).send({ error: `the worklist app has no ${path.slice(root.length + 1)} (in ${root})` });
  return reply
    .type(CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream')
    .header('cache-control', 'no-cache')
    .send(await readFile(path));
}
