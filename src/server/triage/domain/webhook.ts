/**
 * The optional webhook: every study-flagged event is POSTed as JSON to a URL (e.g. a paging system),
 * retried a few times with back-off; a delivery that still fails is audited, never fatal.
 */
import type { ServiceEvent } from '../api.js';
import type { EventBus } from './event-bus.js';
import type { TriageStore } from './store.js';

const ATTEMPTS = 3;
const TIMEOUT_MS = 5000;
const BACKOFF_MS = 500;

/** Sends flagged studies to `url`; returns a function that waits for deliveries in flight (for shutdown). */
export function startWebhook(url: string, bus: EventBus, store: TriageStore): () => Promise<void> {
  const inFlight = new Set<Promise<void>>();
  bus.subscribe((event) => {
    if (event.type !== 'study-flagged') return;
    const delivery = deliver(url, event).catch((error: Error) =>
      store.audit('webhook-failed', `webhook ${url}`, `${event.item.studyInstanceUid}: ${error.message}`, { studyUid: event.item.studyInstanceUid }),
    );
    inFlight.add(delivery);
    void delivery.finally(() => inFlight.delete(delivery));
  });
  return async () => {
    await Promise.all(inFlight);
  };
}

async function deliver(url: string, event: ServiceEvent): Promise<void> {
  let lastError = new Error('not sent');
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await response.arrayBuffer();
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status} after ${attempt} attempt(s)`);
    } catch (error) {
      lastError = new Error(`${(error as Error).message} after ${attempt} attempt(s)`);
    }
    if (attempt < ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * attempt));
  }
  throw lastError;
}
