/**
 * The look-before-you-trust step of the reference workflow on a labelled set of images: confusion
 * matrix and most-confused pairs, the images sorted by loss (to find mislabelled data) with a Grad-CAM
 * overlay each, calibration, and ROC/PR curves per class. When the images' patients are known, the
 * patients sorted by loss too, each with the slices that most support what the model said: labels are
 * often per patient, so a wrong label is a patient's, and shows there. Writes the pictures and a JSON summary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Tensor, tidy } from '../torch/index.js';
import { isDicomPath } from '../data/files.js';
import type { Predictor } from '../learn/predictor.js';
import { TOP_SLICES_PATIENT_SCORE, aggregateByGroup, confusionMatrix, classReport, labelLoss, type Predictions } from '../learn/metrics.js';
import { mostConfused, topLosses, type ConfusedPair, type LossRecord } from './analysis.js';
import { calibration, rocCurve, precisionRecallCurve, type ReliabilityBin } from './curves.js';
import { gradCam, type CamMethod } from './gradcam.js';
import { heatmapOverlayPng, imagePng, tileGridPng } from './images.js';
import { lineChart, matrixHeatmap, svgToPng } from './svg.js';

export interface LabelledFile {
  path: string;
  label: string;
  patientId?: string;
}

/** A model's own per-patient predictions (e.g. a study model's), rows in `patients` order, model class order. */
export interface PatientScores {
  patients: string[];
  probs: Float32Array;
  /** How a patient's probabilities were had, in words. */
  how: string;
}

/** A patient among the highest losses, with its slices that most support the predicted class. */
export interface PatientLoss {
  patient: string;
  actual: string;
  predicted: string;
  loss: number;
  /** Patient-level probability of the predicted class. */
  probability: number;
  actualProbability: number;
  /** Its slices most in favour of the predicted class (a few), each with its own probability of that class, highest first. */
  slices: { path: string; probability: number }[];
}

export interface InterpretOptions {
  /** How many top-loss images to show (default 9). */
  k?: number;
  layer?: string;
  method?: CamMethod;
  /** Probabilities already computed for `files` (rows in file order, model class order). */
  probs?: Float32Array;
  /** How many top-loss patients to show (default 6), when the files' patients are known. */
  patientK?: number;
  /** The model's own patient predictions; without them a patient is the mean of its top slices per class, as the evaluation scores it. */
  patientScores?: PatientScores;
}

export interface Interpretation {
  classes: string[];
  n: number;
  confusion: number[][];
  mostConfused: ConfusedPair[];
  topLosses: (LossRecord & { gradcam: string })[];
  /** The patients with the highest loss, when the files' patients are known. */
  patientLosses?: { how: string; patients: PatientLoss[] };
  calibration: { ece: number; bins: ReliabilityBin[] };
  /** SVG charts, ready to embed in a report. */
  charts: { confusion: string; roc: string; precisionRecall: string; reliability: string };
  /** PNG pictures: the top-losses grid, one Grad-CAM overlay per top-loss image, and the top patients' slices (a row each). */
  pictures: { topLosses: Buffer; gradcams: { name: string; png: Buffer }[]; patientLosses?: Buffer };
}

/** One top-loss patient in a line: `p084: stroke -> normal (p 0.58)`. */
export function patientLossText(q: PatientLoss): string {
  return `${q.patient}: ${q.actual} -> ${q.predicted} (p ${q.probability.toFixed(2)})`;
}

/** The line a training run ends with: the validation patients to look at first, or nothing when patients are unknown. */
export function worstPatientsLine(losses: Interpretation['patientLosses'], shown = 3): string[] {
  return losses
    ? [
        `validation patients with the highest loss (look first; the report's "Patients by loss"): ${losses.patients.slice(0, shown).map(patientLossText).join(', ')}`,
      ]
    : [];
}

/** Slices shown per top-loss patient. */
const PATIENT_SLICES = 3;

export async function interpret(predictor: Predictor, files: LabelledFile[], o: InterpretOptions = {}): Promise<Interpretation> {
  const classes = predictor.spec.classes;
  const k = o.k ?? 9;
  const unknown = [...new Set(files.map((f) => f.label))].filter((l) => !classes.includes(l));
  if (unknown.length) throw new Error(`label ${unknown.join(', ')} is not one of the model's classes (${classes.join(', ')})`);
  const probs = o.probs ?? (await probabilitiesOf(predictor, files));
  const targets = Int32Array.from(files, (f) => classes.indexOf(f.label));
  const losses = Float32Array.from(targets, (t, i) => labelLoss(probs[i * classes.length + t]));
  const p = { probs, targets, losses, classes: classes.length };
  const confusion = confusionMatrix(p);
  const worst = topLosses(
    p,
    files.map((f) => f.path),
    classes,
    k,
  );

  const tiles = [];
  const gradcams: { name: string; png: Buffer }[] = [];
  const records: (LossRecord & { gradcam: string })[] = [];
  for (const [rank, record] of worst.entries()) {
    const image = await predictor.prepare(record.path);
    const input = tidy(() => Tensor.fromHost({ dtype: 'float32', shape: [1, image.channels, image.height, image.width], data: image.data }));
    const cam = gradCam(predictor.model, input, { layer: o.layer, method: o.method, classIndex: classes.indexOf(record.predicted) });
    input.dispose();
    const overlay = await heatmapOverlayPng(image, cam.heatmap, isDicomPath(record.path) ? 'first-channel' : 'luminance');
    const name = `${String(rank + 1).padStart(2, '0')}_${basename(record.path).replace(/[^\w.-]/g, '_')}.png`;
    gradcams.push({ name, png: overlay });
    records.push({ ...record, gradcam: `gradcam/${name}` });
    tiles.push({
      png: await imagePng(image),
      caption: [
        `actual: ${record.actual}`,
        `predicted: ${record.predicted}`,
        `loss ${record.loss.toFixed(2)}  p ${record.probability.toFixed(2)}`,
        basename(record.path),
      ],
    });
  }

  const rocSeries = [];
  const prSeries = [];
  const report = classReport(p);
  for (const [c, name] of classes.entries()) {
    const scores = Float32Array.from(files, (_, i) => probs[i * classes.length + c]);
    const positive = Array.from(targets, (t) => t === c);
    if (!positive.some(Boolean) || positive.every(Boolean)) continue;
    rocSeries.push({ name, points: rocCurve(scores, positive).map((q) => [q.x, q.y] as [number, number]) });
    rocSeries.push({ name: `${name} operating point`, points: [[1 - report[c].specificity, report[c].recall] as [number, number]], dots: true });
    prSeries.push({ name, points: precisionRecallCurve(scores, positive).map((q) => [q.x, q.y] as [number, number]) });
  }
  const cal = calibration(p);
  const charts = {
    confusion: matrixHeatmap(`confusion matrix (n=${files.length})`, confusion, classes, classes),
    roc: lineChart({
      title: 'ROC, one class vs rest (dots: argmax decision)',
      xLabel: '1 - specificity',
      yLabel: 'sensitivity',
      series: [
        ...rocSeries,
        {
          name: 'chance',
          points: [
            [0, 0],
            [1, 1],
          ],
          dashed: true,
        },
      ],
      xRange: [0, 1],
      yRange: [0, 1],
    }),
    precisionRecall: lineChart({
      title: 'precision-recall, one class vs rest',
      xLabel: 'recall',
      yLabel: 'precision',
      series: prSeries,
      xRange: [0, 1],
      yRange: [0, 1],
    }),
    reliability: lineChart({
      title: `reliability (expected calibration error ${cal.ece.toFixed(3)})`,
      xLabel: 'confidence of the predicted class',
      yLabel: 'observed accuracy',
      series: [
        { name: 'model', points: cal.bins.filter((b) => b.count).map((b) => [b.confidence, b.accuracy] as [number, number]) },
        {
          name: 'perfect calibration',
          points: [
            [0, 0],
            [1, 1],
          ],
          dashed: true,
        },
      ],
      xRange: [0, 1],
      yRange: [0, 1],
    }),
  };
  const patientLosses = patientLevelLosses(p, files, classes, o.patientScores, o.patientK ?? 6);
  return {
    classes,
    n: files.length,
    confusion,
    mostConfused: mostConfused(confusion, classes),
    topLosses: records,
    patientLosses,
    calibration: cal,
    charts,
    pictures: {
      topLosses: await tileGridPng(tiles, { title: `top ${tiles.length} losses: actual / predicted / loss / probability` }),
      gradcams,
      patientLosses: patientLosses && (await patientLossGrid(predictor, patientLosses.patients)),
    },
  };
}

/** The `k` patients with the highest loss, or undefined when some file's patient is unknown or there is only one patient. */
function patientLevelLosses(
  p: Predictions,
  files: LabelledFile[],
  classes: string[],
  scores: PatientScores | undefined,
  k: number,
): Interpretation['patientLosses'] {
  if (files.some((f) => f.patientId === undefined)) return undefined;
  const ids = files.map((f) => f.patientId!);
  const patients = scores?.patients ?? [...new Set(ids)];
  if (patients.length < 2) return undefined;
  const labelOf = new Map(files.map((f) => [f.patientId!, classes.indexOf(f.label)]));
  const probs = scores?.probs ?? aggregateByGroup(p, ids).probs; // aggregateByGroup keeps first-seen order, as `patients` does
  const targets = Int32Array.from(patients, (id) => labelOf.get(id)!);
  const losses = Float32Array.from(targets, (t, i) => labelLoss(probs[i * classes.length + t]));
  const worst = topLosses({ probs, targets, losses, classes: classes.length }, patients, classes, k);
  return {
    how: scores?.how ?? TOP_SLICES_PATIENT_SCORE,
    patients: worst.map(({ path: patient, row: _row, ...record }) => {
      const c = classes.indexOf(record.predicted);
      const slices = files.flatMap((f, i) => (f.patientId === patient ? [{ path: f.path, probability: p.probs[i * classes.length + c] }] : []));
      return { patient, ...record, slices: slices.sort((a, b) => b.probability - a.probability).slice(0, PATIENT_SLICES) };
    }),
  };
}

/** One row per patient: its slices that most support the predicted class. */
async function patientLossGrid(predictor: Predictor, patients: PatientLoss[]): Promise<Buffer> {
  const tiles = [];
  for (const patient of patients) {
    for (const [k, slice] of patient.slices.entries()) {
      const head =
        k === 0
          ? [`${patient.patient}: ${patient.actual} -> ${patient.predicted}`, `patient loss ${patient.loss.toFixed(2)}  p ${patient.probability.toFixed(2)}`]
          : ['', ''];
      tiles.push({
        png: await imagePng(await predictor.prepare(slice.path)),
        caption: [...head, `slice p ${slice.probability.toFixed(2)}  ${basename(slice.path)}`],
      });
    }
    for (let k = patient.slices.length; k < PATIENT_SLICES; k++) tiles.push({ caption: [] });
  }
  return tileGridPng(tiles, { columns: PATIENT_SLICES, title: 'patients by loss, one per row: slices most for the prediction' });
}

async function probabilitiesOf(predictor: Predictor, files: LabelledFile[]): Promise<Float32Array> {
  const results = await predictor.predict(files.map((f) => f.path));
  const classes = predictor.spec.classes;
  const probs = new Float32Array(files.length * classes.length);
  results.forEach((r, i) => {
    if ('error' in r) throw new Error(r.error);
    classes.forEach((c, j) => (probs[i * classes.length + j] = r.probabilities[c]));
  });
  return probs;
}

/** Writes confusion.png, top_losses.png, gradcam/*.png, roc.png, reliability.png, top_patient_losses.png (patients known) and interpretation.json. */
export async function writeInterpretation(dir: string, result: Interpretation): Promise<void> {
  mkdirSync(join(dir, 'gradcam'), { recursive: true });
  writeFileSync(join(dir, 'confusion.png'), await svgToPng(result.charts.confusion));
  writeFileSync(join(dir, 'roc.png'), await svgToPng(result.charts.roc));
  writeFileSync(join(dir, 'reliability.png'), await svgToPng(result.charts.reliability));
  writeFileSync(join(dir, 'top_losses.png'), result.pictures.topLosses);
  for (const { name, png } of result.pictures.gradcams) writeFileSync(join(dir, 'gradcam', name), png);
  if (result.pictures.patientLosses) writeFileSync(join(dir, 'top_patient_losses.png'), result.pictures.patientLosses);
  const { charts: _charts, pictures: _pictures, ...summary } = result;
  writeFileSync(join(dir, 'interpretation.json'), JSON.stringify(summary, null, 2) + '\n');
}
