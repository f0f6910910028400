/**
 * `GET /api/events`: server-sent events (HTML Living Standard 9.2) of {@link ServiceEvent}s, each a
 * JSON `data:` line of an unnamed event so `EventSource.onmessage` receives them all; a comment line
 * every 15 s keeps proxies from closing an idle stream.
 */
import type { FastifyInstance } from 'fastify';
import type { EventBus } from '../domain/event-bus.js';

const KEEP_ALIVE_MS = 15_000;

export function eventsRoute(app: FastifyInstance, bus: EventBus): void {
  let nextId = 1;
  app.get('/api/events', (request, reply) => {
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    stream.write(': findstroke triage events\n\n');
    const unsubscribe = bus.subscribe((event) => {
      stream.write(`id: ${nextId++}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    request.raw.once('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });
}
