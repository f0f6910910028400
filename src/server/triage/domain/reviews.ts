/**
 * A radiologist's review of a classified study: confirm the model's urgency class, or correct it to
 * another class. The latest review is what the study shows and what training may use.
 */
import type { Review, ReviewRequest } from '../api.js';
import { TriageRefusal } from './errors.js';
import type { TriageStore } from './store.js';

/**
 * Checks and records `request` for `studyUid`.
 * @throws {@link TriageRefusal}: an unknown study ('not-found'), a malformed request ('invalid'), or confirming a study not yet classified ('conflict').
 */
export function recordReview(store: TriageStore, classes: readonly string[], studyUid: string, request: unknown): Review {
  const study = store.study(studyUid);
  if (!study) throw new TriageRefusal('not-found', `no study ${studyUid}`);
  const review = checkedRequest(request, classes);
  let finalLabel: string;
  if (review.decision === 'confirm') {
    if (!study.urgency)
      throw new TriageRefusal('conflict', `study ${studyUid} has not been classified yet: there is nothing to confirm (correct it with a label instead)`);
    finalLabel = study.urgency;
  } else {
    finalLabel = review.label!;
  }
  const recorded: Review = { ...review, finalLabel, reviewedAt: new Date().toISOString() };
  store.recordReview({ ...recorded, studyUid });
  return recorded;
}

/** Longest reviewer name and comment: a name, and a note, not a document (both go into the audit log and the manifest's provenance). */
const MAX_REVIEWER_CHARS = 100;
const MAX_COMMENT_CHARS = 2000;

function checkedRequest(body: unknown, classes: readonly string[]): ReviewRequest {
  if (typeof body !== 'object' || body === null) throw new TriageRefusal('invalid', 'the review must be a JSON object {decision, label?, reviewer, comment?}');
  const { decision, label, reviewer, comment } = body as Record<string, unknown>;
  if (decision !== 'confirm' && decision !== 'correct')
    throw new TriageRefusal('invalid', `decision must be 'confirm' or 'correct', got ${JSON.stringify(decision)}`);
  if (typeof reviewer !== 'string' || !reviewer.trim()) throw new TriageRefusal('invalid', 'reviewer must name who reviewed the study');
  if (reviewer.trim().length > MAX_REVIEWER_CHARS)
    throw new TriageRefusal('invalid', `reviewer is ${reviewer.trim().length} characters; at most ${MAX_REVIEWER_CHARS}`);
  if (comment !== undefined && typeof comment !== 'string') throw new TriageRefusal('invalid', 'comment must be a string');
  if (comment !== undefined && comment.length > MAX_COMMENT_CHARS)
    throw new TriageRefusal('invalid', `comment is ${comment.length} characters; at most ${MAX_COMMENT_CHARS}`);
  if (decision === 'correct' && (typeof label !== 'string' || !classes.includes(label))) {
    throw new TriageRefusal('invalid', `a correction needs label, one of the model's classes: ${classes.join(', ')}`);
  }
  if (decision === 'confirm' && label !== undefined) throw new TriageRefusal('invalid', "a confirmation takes no label: it confirms the model's urgency class");
  return { decision, ...(decision === 'correct' && { label: label as string }), reviewer: reviewer.trim(), ...(comment !== undefined && { comment }) };
}
