/** The API's views of stored studies: worklist items in triage order, and study details with slices. */
import type { Review, StudyDetail, WorklistItem } from '../api.js';
import type { ReviewRow, StudyRow, TriageStore } from './store.js';
import type { UrgencyPolicy } from './urgency.js';

/** The model the service classifies with, as the API describes it. */
export interface ServedModel {
  /** Model folder, file name and content hash, e.g. `run/model.safetensors sha256:1a2b3c4d5e6f`. */
  name: string;
  classes: string[];
  policy: UrgencyPolicy;
  /** How its study-level probabilities are computed, in words (urgency.ts `studyScoreMethod`). */
  studyScore: string;
}

/** The worklist item of a stored study. */
export function worklistItem(store: TriageStore, study: StudyRow): WorklistItem {
  return {
    studyInstanceUid: study.studyUid,
    patientId: study.patientId,
    status: study.status,
    urgency: study.urgency,
    flagged: study.flagged,
    probabilities: study.probabilities,
    receivedAt: study.receivedAt,
    flaggedAt: study.flaggedAt,
    classifiedAt: study.classifiedAt,
    timeToFlagSeconds: study.timeToFlagSeconds,
    slices: study.instanceCount,
    error: study.error,
    incomplete: study.incomplete,
    review: reviewOf(store.latestReview(study.studyUid)),
  };
}

/**
 * Every study, most urgent first: flagged studies by the urgency of their class, then studies not yet
 * classified (their urgency is unknown, so they come before those found normal), then the rest;
 * within a rank, the oldest arrival first.
 */
export function worklist(store: TriageStore, policy: UrgencyPolicy): WorklistItem[] {
  const rank = (study: StudyRow) => {
    if (study.flagged && study.urgency) return policy.order.indexOf(study.urgency);
    if (!study.classifiedAt) return policy.order.length;
    return policy.order.length + 1;
  };
  return store
    .studies()
    .sort((a, b) => rank(a) - rank(b) || a.receivedAt.localeCompare(b.receivedAt))
    .map((study) => worklistItem(store, study));
}

/**
 * The detail of a stored study, or undefined when it is not stored. `modelName` and `studyScore` are
 * those of its latest classification, or the served model's until it has one.
 */
export function studyDetail(store: TriageStore, model: ServedModel, studyUid: string): StudyDetail | undefined {
  const study = store.study(studyUid);
  if (!study) return undefined;
  const predictions = store.slicePredictions(studyUid);
  const classification = store.classificationBy(studyUid);
  return {
    ...worklistItem(store, study),
    classes: model.classes,
    thresholds: model.policy.thresholds,
    slicesInfo: store.instancesOf(studyUid).map((instance, index) => {
      const prediction = predictions.get(instance.sopUid);
      return { index, sopInstanceUid: instance.sopUid, probabilities: prediction?.probabilities ?? {}, weight: prediction?.weight ?? null };
    }),
    modelName: classification?.model ?? model.name,
    studyScore: classification ? classification.method : model.studyScore,
  };
}

function reviewOf(row: ReviewRow | undefined): Review | null {
  if (!row) return null;
  const { studyUid: _studyUid, ...review } = row;
  return review;
}
