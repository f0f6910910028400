/**
 * A URL, list file or report that `collect` cannot use. The message starts with the source so a
 * report over thousands of URLs says which one failed and why; `reason` alone goes into the report.
 */
export class CollectError extends Error {
  constructor(
    /** The URL, file (or `file:line`) at fault. */
    readonly source: string,
    /** Why it was refused, without the source. */
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'CollectError';
  }
}
