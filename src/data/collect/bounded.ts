/** Running async work over many items with a cap on how much runs at once. */

/**
 * Calls `work` on every item, at most `concurrency` at a time, and resolves when all are done.
 * `work` should settle its own failures: a rejection rejects the whole at once, with others still running.
 */
export async function forEachBounded<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
