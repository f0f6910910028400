/** Running asynchronous work over many items with a cap on how much runs at once. */

/**
 * Calls `work` on every item of `items`, at most `limit` calls at once, and resolves to the results in
 * item order. The next item is pulled only when a call finishes, so a lazy iterable (a generator that
 * renders a patient before yielding its slices) stays lazy. After a failure no further item is pulled:
 * it rejects with the first error once the calls already running have settled.
 */
export async function mapWithConcurrency<T, R>(items: Iterable<T>, limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`the concurrency limit must be a positive integer, got ${limit}`);
  const iterator = items[Symbol.iterator]();
  const results: R[] = [];
  let pulled = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    try {
      while (!failure) {
        const next = iterator.next();
        if (next.done) return;
        const index = pulled++;
        results[index] = await work(next.value, index);
      }
    } catch (error) {
      failure ??= { error };
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failure) throw failure.error;
  return results;
}
