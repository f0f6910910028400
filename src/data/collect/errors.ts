import { InputError } from '../errors.js';

/** A URL, list file (or `file:line`) or report that `collect` cannot use. */
export class CollectError extends InputError {}
