/**
 * A model's scores of a dataset's files, whichever its kind, as a reviewer of the labels ranks them
 * (`findstroke clean`): each file's class probabilities, and from a model that predicts a patient's
 * study as a whole, each patient's study. An exported model gives its {@link FileScorer}.
 */
import type { Sample } from '../data/types.js';
import { studiesOf } from './file-studies.js';
import { STUDY_MODEL_PATIENT_SCORE, TOP_SLICES_PATIENT_SCORE } from './metrics.js';
import type { Prediction, PredictionFailure } from './predictor.js';

/** A file's class probabilities, or why it could not be predicted (e.g. it is corrupt). */
export interface FileScore {
  probabilities?: Record<string, number>;
  error?: string;
}

export interface FileScores {
  files: Map<string, FileScore>;
  /**
   * Each patient the model predicted as one study (a study's figure depends on which files it has): its
   * probabilities, undefined when none of its files could be read.
   */
  studies: Map<string, Record<string, number> | undefined>;
}

/** A model as a reviewer of a dataset's labels uses it. */
export interface FileScorer {
  readonly spec: { readonly classes: readonly string[] };
  /** How the reviewer's listing by patient scores a patient, in words. */
  readonly patientScoring: string;
  /** The scores of `samples`' files (a file without a patient id is a study of its own, scored but not a patient). */
  score(samples: readonly Pick<Sample, 'path' | 'patientId' | 'sliceIndex'>[]): Promise<FileScores>;
}

/** A model that gives class probabilities for image files (a `Predictor`). */
export interface ImageScorer {
  readonly spec: { readonly classes: readonly string[] };
  predict(paths: string[]): Promise<(Prediction | PredictionFailure)[]>;
}

/** A model that predicts a study from its slices, giving the study's class probabilities and each slice's own (a `StudyPredictor`). */
export interface StudyScorer {
  readonly spec: { readonly classes: readonly string[] };
  predictStudy(
    study: string,
    paths: readonly string[],
  ): Promise<{
    probabilities: Record<string, number>;
    slices: readonly { path: string; probabilities: Record<string, number> }[];
    failures: readonly PredictionFailure[];
  }>;
}

/** A slice model's scores: each file alone, in one pass; the reviewer pools a patient's top slices. */
export function sliceFileScorer(model: ImageScorer): FileScorer {
  return {
    spec: model.spec,
    patientScoring: TOP_SLICES_PATIENT_SCORE,
    async score(samples) {
      const files = new Map<string, FileScore>();
      for (const p of await model.predict(samples.map((sample) => sample.path)))
        files.set(p.path, 'error' in p ? { error: p.error } : { probabilities: p.probabilities });
      return { files, studies: new Map() };
    },
  };
}

/** A study model's scores: each patient's files predicted together as its study (see {@link studiesOf}), each file by its own score in it. */
export function studyFileScorer(model: StudyScorer): FileScorer {
  return {
    spec: model.spec,
    patientScoring: STUDY_MODEL_PATIENT_SCORE,
    async score(samples) {
      const scores: FileScores = { files: new Map(), studies: new Map() };
      for (const { patientId, members } of studiesOf(samples)) {
        const paths = members.map((i) => samples[i].path);
        const study = await scoreStudy(model, patientId ?? paths[0], paths);
        for (const [path, score] of study.files) scores.files.set(path, score);
        if (patientId !== undefined) scores.studies.set(patientId, study.probabilities);
      }
      return scores;
    },
  };
}

/** A study's files scored together; the study's probabilities are absent when none of its files could be read. */
async function scoreStudy(
  model: StudyScorer,
  study: string,
  paths: readonly string[],
): Promise<{ files: Map<string, FileScore>; probabilities?: Record<string, number> }> {
  try {
    const prediction = await model.predictStudy(study, paths);
    const files = new Map<string, FileScore>(prediction.slices.map((s) => [s.path, { probabilities: s.probabilities }]));
    for (const failure of prediction.failures) files.set(failure.path, { error: failure.error });
    return { files, probabilities: prediction.probabilities };
  } catch (e) {
    return { files: new Map(paths.map((path) => [path, { error: (e as Error).message }])) };
  }
}
