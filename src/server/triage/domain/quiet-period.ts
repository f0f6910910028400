/**
 * When to classify: a study is classified once no new instance has arrived for the quiet period (a
 * scanner sends a series slice by slice, with no end-of-series message in C-STORE or STOW-RS).
 * Ready studies are classified one at a time, oldest ready first.
 */
export class QuietPeriodScheduler {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #ready: string[] = [];
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly quietMs: number,
    private readonly classify: (studyUid: string) => Promise<void>,
  ) {}

  /** (Re)starts the study's quiet period from `lastReceivedMs` (epoch ms), e.g. on every new instance. */
  touch(studyUid: string, lastReceivedMs = Date.now()): void {
    if (this.#closed) return;
    clearTimeout(this.#timers.get(studyUid));
    const delay = Math.max(0, lastReceivedMs + this.quietMs - Date.now());
    this.#timers.set(
      studyUid,
      setTimeout(() => {
        this.#timers.delete(studyUid);
        if (!this.#ready.includes(studyUid)) this.#ready.push(studyUid);
        this.#drain();
      }, delay),
    );
  }

  /** Stops scheduling and waits for the classification in progress; waiting studies stay 'received' in the store. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#ready.length = 0;
    await this.#running;
  }

  #drain(): void {
    if (this.#running || this.#closed) return;
    const next = this.#ready.shift();
    if (next === undefined) return;
    // classify() records its own failures; a throw here would be a bug, and must not stop the queue.
    this.#running = this.classify(next)
      .catch(() => undefined)
      .finally(() => {
        this.#running = undefined;
        this.#drain();
      });
  }
}
