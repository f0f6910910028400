/**
 * The triage service's HTTP face (fastify): the worklist API, STOW-RS, HTTP upload, server-sent
 * events and the worklist app's files. Every refusal is a 4xx with `{ error }` saying why; refused
 * uploads (too large, interrupted, malformed) are audited too.
 *
 * Which requests need the token is decided by the route the router matched, never by the raw URL: the
 * protected routes live in one encapsulated plugin whose onRequest hook checks the token, so every
 * spelling the router resolves to them (`/%61pi/worklist`, percent-encoded separators...) meets it.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { apiRoutes, type ApiContext } from './api-routes.js';
import { requireToken } from './auth.js';
import { eventsRoute } from './events-route.js';
import { HttpRefusal } from './http-refusal.js';
import { TriageRefusal, type TriageRefusalKind } from '../domain/errors.js';
import type { Ingestor } from '../domain/ingest.js';
import { refuseForeignOrigins, type OriginPolicy } from './same-origin.js';
import { stowRoute } from './stow-route.js';
import { uploadRoute } from './upload-route.js';
import { worklistAssets } from './worklist-assets.js';

export interface HttpAppOptions extends ApiContext {
  ingestor: Ingestor;
  /** Required on every API and DICOMweb route when set. */
  token: string | undefined;
  /** Largest STOW-RS or upload request body, in bytes. */
  maxRequestBytes: number;
  /** The worklist app's folder, when not the repository's src/web/worklist. */
  assetsFolder?: string;
  /** Which hosts and page origins are the service's own. */
  origins: OriginPolicy;
}

/** Routes that receive files: their refusals are audited. */
const INGEST_ROUTES = new Set(['/api/upload', '/dicomweb/studies']);

/** The HTTP status of each kind of refusal by the triage domain. */
const REFUSAL_STATUS: Record<TriageRefusalKind, 400 | 404 | 409> = { invalid: 400, 'not-found': 404, conflict: 409 };

/** The fastify app; not listening yet. */
export async function triageHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  // forceCloseConnections: close() also ends open event streams instead of waiting for them. Unlimited (fastify's default),
  // a body sent a byte at a time or a client that stops reading its answer holds a connection forever: requestTimeout
  // bounds the request, connectionTimeout a connection with nothing sent or received (ingesting a STOW-RS body must fit it).
  const app = Fastify({ forceCloseConnections: true, bodyLimit: 1024 * 1024, connectionTimeout: 120_000, requestTimeout: 300_000 });

  app.setErrorHandler((error: FastifyError | TriageRefusal, request, reply) => {
    const status = error instanceof TriageRefusal ? REFUSAL_STATUS[error.kind] : (error.statusCode ?? 500);
    const path = request.url.split('?')[0];
    // A client already gone is the abort hook's to audit, once.
    if (status < 500 && isIngestRoute(request) && !request.raw.socket?.destroyed) {
      options.store.audit('rejected', `http ${request.ip}`, `${request.method} ${path}: ${error.message} (HTTP ${status})`);
    }
    // fastify's logger is off; a fault of the service must still reach the operator's console.
    if (status >= 500 && !request.raw.socket?.destroyed) console.error(`findstroke serve: ${request.method} ${path}: ${error.stack ?? error.message}`);
    // fastify's own 413s do not say the limit; a refusal of ours does.
    const tooLarge = status === 413 && !(error instanceof HttpRefusal);
    return reply.code(status).send({ error: tooLarge ? `${error.message}: the limit is ${limitOf(request, options)} bytes` : error.message });
  });
  // A client that goes away mid-body gets no answer (fastify skips the error handler), but the audit says what happened.
  app.addHook('onRequestAbort', async (request) => {
    const path = request.url.split('?')[0];
    if (!isIngestRoute(request) || request.raw.complete) return;
    const declared = request.headers['content-length'] ? ` of a ${request.headers['content-length']}-byte body` : '';
    options.store.audit(
      'rejected',
      `http ${request.ip}`,
      `${request.method} ${path}: interrupted upload: the client closed the connection before the end${declared}; nothing from it was stored`,
    );
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no such page or API: ${request.method} ${request.url.split('?')[0]}` }));

  refuseForeignOrigins(app, options.origins);
  await app.register(async (protectedRoutes) => {
    if (options.token) requireToken(protectedRoutes, options.token, options.store);
    apiRoutes(protectedRoutes, options);
    eventsRoute(protectedRoutes, options.bus);
    stowRoute(protectedRoutes, options.ingestor, options.maxRequestBytes);
    await uploadRoute(protectedRoutes, options.ingestor, { stagingFolder: options.objects.stagingFolder, maxRequestBytes: options.maxRequestBytes });
  });
  worklistAssets(app, options.assetsFolder);
  return app;
}

/** The matched route's pattern (e.g. `/api/studies/:studyUid`), undefined when no route matched. */
function routeOf(request: FastifyRequest): string | undefined {
  return request.routeOptions.url;
}

function isIngestRoute(request: FastifyRequest): boolean {
  return INGEST_ROUTES.has(routeOf(request) ?? '');
}

function limitOf(request: FastifyRequest, options: HttpAppOptions): number {
  const route = routeOf(request);
  return route === '/dicomweb/studies' ? options.maxRequestBytes : route === '/api/upload' ? options.ingestor.maxInstanceBytes : 1024 * 1024;
}
