/**
 * A data file or folder findstroke cannot use. Like `DicomError`, the message starts with the path so a
 * report over thousands of files says which one failed, and `reason` alone can go into a table column.
 */
export class DataFileError extends Error {
  constructor(
    /** The offending file or folder. */
    readonly path: string,
    /** Why it was refused, without the path. */
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'DataFileError';
  }
}

/**
 * The reason of a thrown value without its path prefix: the `reason` of `DataFileError`, `DicomError` and
 * their kind, else the first line of the message (sharp repeats libvips' messages over several lines).
 */
export function reasonOf(thrown: unknown): string {
  if (thrown instanceof Error && 'reason' in thrown && typeof thrown.reason === 'string') return thrown.reason;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return message.split('\n')[0];
}
