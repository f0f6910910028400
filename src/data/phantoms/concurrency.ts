/** Running many small asynchronous jobs (file writes) a few at a time. */

/**
 * Runs the jobs `jobs` yields, at most `limit` at once, pulling the next only when one finishes, so a
 * lazy iterable (e.g. a generator that renders a patient before yielding its slices) stays lazy.
 * Rejects with the first job's error, after the jobs already running have settled.
 */
export async function runWithConcurrency(jobs: Iterable<() => Promise<void>>, limit: number): Promise<void> {
  const iterator = jobs[Symbol.iterator]();
  let failed = false;
  const worker = async () => {
    try {
      for (let next = iterator.next(); !next.done && !failed; next = iterator.next()) await next.value();
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: limit }, worker));
  const rejected = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected) throw rejected.reason;
}
