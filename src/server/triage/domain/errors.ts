/**
 * Why the triage domain refused a request. The kind says whose fault it is, so that each face of the
 * service (HTTP here; a CLI or another protocol later) answers in its own terms without parsing messages.
 */
export type TriageRefusalKind =
  /** The request itself is malformed: a review without a reviewer, a label the model does not have. */
  | 'invalid'
  /** It names something that is not stored: an unknown study. */
  | 'not-found'
  /** It clashes with the study's state: confirming a study not yet classified. */
  | 'conflict';

/** A refused request; nothing stored was changed by the call that threw it. */
export class TriageRefusal extends Error {
  constructor(
    readonly kind: TriageRefusalKind,
    message: string,
  ) {
    super(message);
    this.name = 'TriageRefusal';
  }
}
