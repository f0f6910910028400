/**
 * Status codes for a refused instance, shared by C-STORE responses (PS3.4 Table B.2-1, PS3.7 Annex C)
 * and the FailureReason (0008,1197) of a STOW-RS response (PS3.18 Table 10.5.3-2 lists the same codes).
 */
export const STORE_STATUS = {
  success: 0x0000,
  /** Refused: Out of Resources (PS3.4 B.2.3): too large to accept, or the store could not be written. */
  outOfResources: 0xa700,
  /** Error: Data Set does not match SOP Class (PS3.4 B.2.3): readable, but not an image this service takes (e.g. MR). */
  doesNotMatchSopClass: 0xa900,
  /** Error: Cannot understand (PS3.4 B.2.3): not a readable DICOM data set. */
  cannotUnderstand: 0xc000,
  /**
   * Error (PS3.4 B.2.3 leaves the low bits of Cxxx to the implementation; this one is findstroke's): the
   * instance contradicts what is stored, e.g. another PatientID than its study's, or a SOP Instance UID
   * already stored with other content. The stored data are kept as they were.
   */
  conflictsWithStored: 0xc409,
} as const;

/** Error Comment (0000,0902) is LO: at most 64 characters (PS3.7 C.4, PS3.5 6.2). */
export const ERROR_COMMENT_MAX = 64;

/** An instance the service refuses, with the status to answer and the reason in words. */
export class IngestRejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'IngestRejection';
  }
}
