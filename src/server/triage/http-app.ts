/**
 * The triage service's HTTP face (fastify): the worklist API, STOW-RS, HTTP upload, server-sent
 * events and the worklist app's files. Every refusal is a 4xx with `{ error }` saying why; refused
 * uploads (too large, interrupted, malformed) are audited too.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { apiRoutes, type ApiContext } from './api-routes.js';
import { requireToken } from './auth.js';
import { eventsRoute } from './events-route.js';
import type { Ingestor } from './ingest.js';
import { refuseForeignOrigins } from './same-origin.js';
import { stowRoute } from './stow-route.js';
import { uploadRoute } from './upload-route.js';
import { worklistAssets } from './worklist-assets.js';

export interface HttpAppOptions extends ApiContext {
  ingestor: Ingestor;
  /** Required on /api and /dicomweb when set. */
  token: string | undefined;
  /** Largest STOW-RS request body, in bytes. */
  maxRequestBytes: number;
  /** The worklist app's folder, when not the repository's src/web/worklist. */
  assetsFolder?: string;
  /** Listening on a loopback address: requests naming any other host are refused. */
  loopbackOnly: boolean;
}

const INGEST_ROUTES = ['/api/upload', '/dicomweb/'];

/** The fastify app; not listening yet. */
export async function triageHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  // forceCloseConnections: close() also ends open event streams instead of waiting for them. Unlimited (fastify's default),
  // a body sent a byte at a time or a client that stops reading its answer holds a connection forever: requestTimeout
  // bounds the request, connectionTimeout a connection with nothing sent or received (ingesting a STOW-RS body must fit it).
  const app = Fastify({ forceCloseConnections: true, bodyLimit: 1024 * 1024, connectionTimeout: 120_000, requestTimeout: 300_000 });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    const path = request.url.split('?')[0];
    // A client already gone is the abort hook's to audit, once.
    if (status < 500 && isIngestRoute(path) && !request.raw.socket?.destroyed) {
      options.store.audit('rejected', `http ${request.ip}`, `${request.method} ${path}: ${error.message} (HTTP ${status})`);
    }
    // fastify's logger is off; a fault of the service must still reach the operator's console.
    if (status >= 500) console.error(`findstroke serve: ${request.method} ${path}: ${error.stack ?? error.message}`);
    return reply.code(status).send({ error: status === 413 ? `${error.message}: the limit is ${limitOf(path, options)} bytes` : error.message });
  });
  // A client that goes away mid-body gets no answer (fastify skips the error handler), but the audit says what happened.
  app.addHook('onRequestAbort', async (request) => {
    const path = request.url.split('?')[0];
    if (!isIngestRoute(path) || request.raw.complete) return;
    const declared = request.headers['content-length'] ? ` of a ${request.headers['content-length']}-byte body` : '';
    options.store.audit('rejected', `http ${request.ip}`, `${request.method} ${path}: interrupted upload: the client closed the connection before the end${declared}; nothing from it was stored`);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no such page or API: ${request.method} ${request.url.split('?')[0]}` }));

  refuseForeignOrigins(app, { loopbackOnly: options.loopbackOnly });
  if (options.token) requireToken(app, options.token, options.store);
  apiRoutes(app, options);
  eventsRoute(app, options.bus);
  stowRoute(app, options.ingestor, options.maxRequestBytes);
  await uploadRoute(app, options.ingestor);
  worklistAssets(app, options.assetsFolder);
  return app;
}

function isIngestRoute(path: string): boolean {
  return INGEST_ROUTES.some((prefix) => path.startsWith(prefix));
}

function limitOf(path: string, options: HttpAppOptions): number {
  return path.startsWith('/dicomweb/') ? options.maxRequestBytes : path === '/api/upload' ? options.ingestor.maxInstanceBytes : 1024 * 1024;
}
