/**
 * Cleaning a labelled dataset with a trained model, as fastai's ImageClassifierCleaner: rank images by
 * the loss of their label, then relabel or delete (into a trash folder), logged and undoable. No HTTP here.
 */
export { Cleaner, type CleanerOptions } from './cleaner.js';
export { applyDecisions, type ApplyOptions, type BatchResult, type Decision } from './apply.js';
export { undoLastBatch, type UndoResult } from './undo.js';
export { CleanError, type CleanErrorKind } from './errors.js';
export type { LogEntry } from './log.js';
export { LOG_NAME, TRASH_NAME } from './paths.js';
export { previewImage, type PreviewImage } from './preview.js';
export { SIDE_FILTERS, type PatientReviewItem, type ReviewItem, type Side, type SideFilter } from './review.js';
