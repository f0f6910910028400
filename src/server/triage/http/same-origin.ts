/**
 * Browser-borne requests from other sites are refused (403 with the reason): on a loopback address a
 * Host that is not a loopback name means a DNS-rebinding page, and an Origin other than the service's
 * own means another site's page posting here (uploads are "simple" requests that skip CORS preflight).
 * Scanners, PACS and scripts send no Origin and are not affected.
 *
 * Behind a reverse proxy (TLS terminated there), the page's origin is the proxy's public URL
 * (`https://triage.example.org`), which the proxy may also pass on as Host: those URLs are named in
 * `publicUrls` (`serve --public-url`), and their origins and hosts are the service's own too.
 */
import type { FastifyInstance } from 'fastify';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface OriginPolicy {
  /** Listening on a loopback address: requests naming any other host are refused. */
  loopbackOnly: boolean;
  /** URLs under which browsers reach the service through a reverse proxy. */
  publicUrls: readonly string[];
}

/** The origins (RFC 6454 6.1: scheme://host[:port]) of `urls`. @throws Error naming a URL that is not http(s). */
export function originsOf(urls: readonly string[]): string[] {
  return urls.map((url) => {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) throw new Error(`public URL ${JSON.stringify(url)} is not an http:// or https:// URL`);
    return parsed.origin;
  });
}

export function refuseForeignOrigins(app: FastifyInstance, { loopbackOnly, publicUrls }: OriginPolicy): void {
  const publicOrigins = new Set(originsOf(publicUrls));
  const publicHosts = new Set([...publicOrigins].map((origin) => new URL(origin).host));
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host ?? '';
    const name = host.replace(/:\d+$/, '');
    if (loopbackOnly && !LOOPBACK_NAMES.has(name) && !publicHosts.has(host)) {
      const named = publicHosts.size ? `, ${[...publicHosts].join(', ')}` : '';
      return reply.code(403).send({ error: `this service answers requests for 127.0.0.1 or localhost${named} only, not Host ${JSON.stringify(host)}` });
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${host}` && !publicOrigins.has(origin)) {
      return reply
        .code(403)
        .send({ error: `requests from pages of ${origin} are refused: only the worklist app served here (or at a --public-url) may call this API` });
    }
  });
}
