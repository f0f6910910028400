/** The service's notifications (study received, updated, flagged), fanned out to SSE clients and the webhook. */
import type { ServiceEvent } from '../api.js';

export type EventListener = (event: ServiceEvent) => void;

export class EventBus {
  readonly #listeners = new Set<EventListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Delivers `event` to every listener; one failing listener does not keep it from the others. */
  publish(event: ServiceEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's own failure (e.g. a closed socket) is its business; delivery goes on.
      }
    }
  }
}
