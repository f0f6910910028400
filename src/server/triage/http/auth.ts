/**
 * Token authentication for the API and DICOMweb routes: `Authorization: Bearer <token>` (RFC 6750 2.1),
 * or `?token=` where a browser cannot set headers (EventSource, <img>). Failures are 401 with the
 * reason and a WWW-Authenticate challenge (RFC 6750 3), and audited; the page and its assets stay open.
 * The hook guards every route of the fastify scope it is added to, whatever the request's spelling.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TriageStore } from '../domain/store.js';

/** Refuses requests to the routes of `scope` that do not carry `token`. */
export function requireToken(scope: FastifyInstance, token: string, store: TriageStore): void {
  const expected = digest(token);
  scope.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    const presented = presentedToken(request);
    const reason =
      presented === undefined
        ? 'a token is required: send Authorization: Bearer <token>, or ?token= for EventSource and image URLs'
        : timingSafeEqual(digest(presented), expected)
          ? undefined
          : 'the token is not valid';
    if (!reason) return;
    store.audit('auth-failure', `http ${request.ip}`, `${request.method} ${path}: ${reason}`);
    return reply
      .code(401)
      .header('www-authenticate', `Bearer realm="findstroke", error="${presented === undefined ? 'invalid_request' : 'invalid_token'}"`)
      .send({ error: reason });
  });
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) return /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

/** Fixed-length digests, so the comparison takes the same time whatever the presented token's length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
