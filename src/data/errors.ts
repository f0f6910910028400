/**
 * An input findstroke cannot use: a file, folder, URL or in-memory buffer. The message always starts
 * with the source so a report over thousands of inputs says which one failed, and `reason` alone can
 * go into a table column or report. DICOM, collect and data-file errors are all of this kind.
 */
export class InputError extends Error {
  constructor(
    /** The offending file, folder, URL (or `file:line`), or the caller's label for bytes. */
    readonly source: string,
    /** Why it was refused, without the source. */
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = new.target.name;
  }
}

/** A data file or folder findstroke cannot use. */
export class DataFileError extends InputError {
  /** The offending file or folder. */
  get path(): string {
    return this.source;
  }
}

/**
 * The reason of a thrown value without its path prefix: the `reason` of `DataFileError`, `DicomError` and
 * their kind, else the first line of the message (sharp repeats libvips' messages over several lines).
 */
export function reasonOf(thrown: unknown): string {
  if (thrown instanceof InputError) return thrown.reason;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return message.split('\n')[0];
}
