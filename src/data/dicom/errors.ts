import { InputError } from '../errors.js';

/** A DICOM input findstroke cannot use (the message starts with the file or the caller's label). */
export class DicomError extends InputError {}

/** dicom-parser throws strings and `{exception}` objects as well as Errors; this gets the text. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  if (thrown && typeof thrown === 'object' && 'exception' in thrown) return String(thrown.exception);
  return String(thrown);
}
