/**
 * An input findstroke cannot use. The message always starts with the file (or the caller's label
 * for in-memory bytes) so a report over thousands of files says which one failed and why.
 */
export class DicomError extends Error {
  constructor(
    /** The path or label of the offending input. */
    readonly source: string,
    /** Why it was refused, without the source. */
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'DicomError';
  }
}

/** dicom-parser throws strings and `{exception}` objects as well as Errors; this gets the text. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  if (thrown && typeof thrown === 'object' && 'exception' in thrown) return String(thrown.exception);
  return String(thrown);
}
