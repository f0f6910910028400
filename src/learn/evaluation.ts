/**
 * The evaluation summary findstroke prints and saves: slice-level metrics and, where patient ids are
 * known, patient-level ones: each class's top-k slice probabilities averaged per patient, or a study
 * model's own prediction per patient.
 */
import { oneSliceStudiesNote } from './file-studies.js';
import {
  STUDY_TOP_K,
  accuracy,
  aggregateByGroup,
  aucPerClass,
  brierScore,
  classReport,
  confusionMatrix,
  logLoss,
  macroAuc,
  macroF1,
  type ClassReport,
  type Predictions,
} from './metrics.js';

export interface Evaluation {
  /** Number of images evaluated. */
  n: number;
  classes: string[];
  accuracy: number;
  /** Macro one-vs-rest ROC AUC (slice level). */
  auc: number;
  aucPerClass: Record<string, number>;
  macroF1: number;
  logLoss: number;
  brier: number;
  /** Rows = actual, columns = predicted, in `classes` order. */
  confusion: number[][];
  perClass: Record<string, ClassReport>;
  /** Patient-level figures, when patient ids are known. */
  patients?: number;
  patientAuc?: number;
  patientAccuracy?: number;
  patientConfusion?: number[][];
  /** How a patient's prediction was made from its slices: the mean of the top k per class; absent for a study model's own prediction. */
  patientTopK?: number;
  /** Images without a patient id, each predicted by a study model as a one-slice study of its own and counted among `patients`. */
  imagesWithoutPatient?: number;
}

export function evaluate(p: Predictions, classes: string[], patientIds?: (string | undefined)[], topK = STUDY_TOP_K): Evaluation {
  const perClassAuc = aucPerClass(p);
  const out: Evaluation = {
    n: p.targets.length,
    classes,
    accuracy: accuracy(p),
    auc: macroAuc(p),
    aucPerClass: Object.fromEntries(classes.map((c, i) => [c, perClassAuc[i]])),
    macroF1: macroF1(p),
    logLoss: logLoss(p),
    brier: brierScore(p),
    confusion: confusionMatrix(p),
    perClass: Object.fromEntries(classReport(p).map((r, i) => [classes[i], r])),
  };
  if (patientIds && patientIds.length === p.targets.length && patientIds.every((id) => id !== undefined)) {
    return { ...withPatientLevel(out, aggregateByGroup(p, patientIds as string[], topK)), patientTopK: topK };
  }
  return out;
}

/** `e` with patient-level figures from `patients`, one prediction row per patient. */
export function withPatientLevel(e: Evaluation, patients: Predictions): Evaluation {
  return {
    ...e,
    patients: patients.targets.length,
    patientAuc: macroAuc(patients),
    patientAccuracy: accuracy(patients),
    patientConfusion: confusionMatrix(patients),
  };
}

const pct = (v: number) => (Number.isNaN(v) ? '  n/a' : `${(100 * v).toFixed(1)}%`);
const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(3));

/** A readable report: what was measured on what, the confusion matrix, and per-class figures. */
export function formatEvaluation(e: Evaluation, measuredOn: string): string {
  const width = Math.max(...e.classes.map((c) => c.length), 8);
  const lines = [
    `measured on ${measuredOn}`,
    `slice level:   n=${e.n}  accuracy ${pct(e.accuracy)}  ROC AUC ${num(e.auc)}  macro F1 ${num(e.macroF1)}  log loss ${num(e.logLoss)}  Brier ${num(e.brier)}`,
  ];
  if (e.patients !== undefined) {
    const how = e.patientTopK === undefined ? "the study model's prediction" : `mean of top-${e.patientTopK} slice probabilities`;
    lines.push(`patient level: n=${e.patients} patients  accuracy ${pct(e.patientAccuracy!)}  ROC AUC ${num(e.patientAuc)}  (${how})`);
    if (e.imagesWithoutPatient) lines.push(`               ${oneSliceStudiesNote(e.imagesWithoutPatient)}, counted as a patient`);
  }
  lines.push('', `confusion matrix (rows actual, columns predicted):`, `${''.padEnd(width)}  ${e.classes.map((c) => c.padStart(width)).join('  ')}`);
  e.confusion.forEach((row, i) => lines.push(`${e.classes[i].padEnd(width)}  ${row.map((v) => String(v).padStart(width)).join('  ')}`));
  lines.push('', `${'class'.padEnd(width)}  sensitivity  specificity  precision     F1    AUC  support`);
  for (const c of e.classes) {
    const r = e.perClass[c];
    lines.push(
      `${c.padEnd(width)}  ${pct(r.recall).padStart(11)}  ${pct(r.specificity).padStart(11)}  ${pct(r.precision).padStart(9)}  ${num(r.f1).padStart(5)}  ${num(e.aucPerClass[c]).padStart(5)}  ${String(r.support).padStart(7)}`,
    );
  }
  return lines.join('\n');
}
