/**
 * The cleaner's HTTP face (fastify): the page, and a JSON API over a {@link Cleaner}. Every refusal is a
 * 4xx with `{ error }` saying why; only loopback clients of this very page are served.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifySchemaValidationError } from 'fastify';
import { CleanError, previewImage, type Cleaner, type CleanErrorKind, type Decision, type SideFilter } from '../../clean/index.js';
import { PAGE_FILES, type PageFile } from './page.js';
import { applyBody, imageParams, listingQuery, undoBody } from './schemas.js';

const STATUS_OF: Record<CleanErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409 };
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The fastify app serving `cleaner` and `page`; not listening yet (tests use `inject`). */
export function cleanerApp(cleaner: Cleaner, page: Record<PageFile, string>): FastifyInstance {
  // Fastify's default validator silently drops unknown properties; a cleaning request with a typo must fail instead.
  const app = Fastify({ ajv: { customOptions: { removeAdditional: false } }, schemaErrorFormatter: schemaError });

  app.addHook('onRequest', async (request, reply) => {
    const refusal = foreignRequest(request.headers.host, request.headers.origin);
    if (refusal) return reply.code(403).send({ error: refusal });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof CleanError) return reply.code(STATUS_OF[error.kind]).send({ error: error.message });
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error(error);
    const hint = status === 415 ? ': the API takes JSON (content-type: application/json)' : '';
    return reply.code(status).send({ error: error.message + hint });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no such page or API: ${request.method} ${request.url}` }));

  for (const [name, type] of Object.entries(PAGE_FILES) as [PageFile, string][]) {
    app.get(name === 'index.html' ? '/' : `/${name}`, async (_, reply) => reply.type(type).send(page[name]));
  }

  app.get('/api/classes', async () => ({ root: cleaner.root, classes: cleaner.classes }));

  app.get<{ Querystring: { class: string; side: SideFilter; limit?: number } }>('/api/images', { schema: { querystring: listingQuery } }, async (request) => {
    const { class: className, side, limit } = request.query;
    const images = cleaner.images(className, side);
    return { class: className, side, total: images.length, images: images.slice(0, limit) };
  });

  app.get<{ Querystring: { class: string; side: SideFilter; limit?: number } }>('/api/patients', { schema: { querystring: listingQuery } }, async (request) => {
    const { class: className, side, limit } = request.query;
    const patients = cleaner.patients(className, side);
    return { class: className, side, scoring: cleaner.patientScoring, total: patients.length, patients: patients.slice(0, limit) };
  });

  app.get<{ Params: { id: string } }>('/api/image/:id', { schema: { params: imageParams } }, async (request, reply) => {
    const { contentType, bytes } = await previewImage(cleaner.imagePath(request.params.id));
    // Ids are paths, and a relabel or undo can put another image at a path: never reuse a cached one.
    return reply.type(contentType).header('cache-control', 'no-store').send(bytes);
  });

  app.post<{ Body: { decisions: Record<string, Decision> } }>('/api/apply', { schema: { body: applyBody } }, async (request) =>
    cleaner.apply(request.body.decisions),
  );

  app.post('/api/undo', { schema: { body: undoBody } }, async () => cleaner.undo());

  return app;
}

/**
 * The reason a request failed its schema, in words: a bad decision is named by its image path (ajv would
 * give a JSON pointer and one line per branch of the decision's `anyOf`).
 */
function schemaError(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const decision = errors.find((error) => error.instancePath.startsWith('/decisions/'));
  if (decision) {
    const path = decision.instancePath.slice('/decisions/'.length).replace(/~1/g, '/').replace(/~0/g, '~');
    return new Error(`the decision for ${path} must be "keep", "delete" or {"relabel": class}`);
  }
  return new Error(errors.map((error) => `${dataVar}${error.instancePath} ${error.message}`).join('; '));
}

/**
 * Why a request must be refused although it reached the loopback address: a Host that is not a loopback
 * name (a DNS-rebinding page) or an Origin other than this server (another site's page posting here).
 */
function foreignRequest(host: string | undefined, origin: string | undefined): string | undefined {
  const name = host?.replace(/:\d+$/, '');
  if (!name || !LOOPBACK_NAMES.has(name)) return `the cleaner only answers requests for 127.0.0.1 or localhost, not Host ${JSON.stringify(host ?? '')}`;
  if (origin !== undefined && origin !== `http://${host}`) return `requests from ${origin} are refused: only the cleaner's own page may call its API`;
  return undefined;
}
