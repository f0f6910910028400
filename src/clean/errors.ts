/**
 * Why a cleaning request was refused. The kind says whose fault it is, so that a caller (the HTTP layer,
 * the CLI) can answer in its own terms without parsing messages.
 */
export type CleanErrorKind =
  /** The request itself is malformed: a path outside the dataset, an unknown class or side. */
  | 'invalid'
  /** It names something that is not there: a file that is not an image of the dataset. */
  | 'not-found'
  /** It clashes with what is on disk: a file would be overwritten, nothing to undo, a file moved since. */
  | 'conflict';

/** A refused cleaning request; nothing on disk was changed by the call that threw it. */
export class CleanError extends Error {
  constructor(
    readonly kind: CleanErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CleanError';
  }
}
