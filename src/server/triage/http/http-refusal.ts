/** A request refused with an HTTP status and the reason in words; the app's error handler answers (and, for uploads, audits) it. */
export class HttpRefusal extends Error {
  constructor(
    readonly statusCode: 400 | 404 | 409 | 413 | 415 | 422,
    message: string,
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}
