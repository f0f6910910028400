/**
 * Browser-borne requests from other sites are refused (403 with the reason): on a loopback address a
 * Host that is not a loopback name means a DNS-rebinding page, and an Origin other than the service's
 * own means another site's page posting here (uploads are "simple" requests that skip CORS preflight).
 * Scanners, PACS and scripts send no Origin and are not affected.
 */
import type { FastifyInstance } from 'fastify';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function refuseForeignOrigins(app: FastifyInstance, { loopbackOnly }: { loopbackOnly: boolean }): void {
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host ?? '';
    const name = host.replace(/:\d+$/, '');
    if (loopbackOnly && !LOOPBACK_NAMES.has(name)) {
      return reply.code(403).send({ error: `this service answers requests for 127.0.0.1 or localhost only, not Host ${JSON.stringify(host)}` });
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      return reply.code(403).send({ error: `requests from pages of ${origin} are refused: only the worklist app served here may call this API` });
    }
  });
}
