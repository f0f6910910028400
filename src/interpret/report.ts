/**
 * The training run's report: one self-contained HTML file (inline SVG charts, PNG pictures as data
 * URIs, no scripts, no network) that a person opens from disk: data and split, the epoch table and
 * curves, evaluation, confusion matrix, ROC, calibration, the top-losses grid with Grad-CAM, provenance.
 */
import type { EpochResult } from '../learn/callback.js';
import { formatSeconds } from '../learn/callbacks/recorder.js';
import type { Evaluation } from '../learn/evaluation.js';
import type { Interpretation } from './interpret.js';
import { esc, lineChart } from './svg.js';

export interface ReportInput {
  title: string;
  data: { source: string; images: number; classes: { label: string; images: number; patients: number }[] };
  split: { by: string; seed: number; trainImages: number; validImages: number; validPatients?: string[] };
  /** The epoch table; empty for a model fitted without epochs. */
  history: EpochResult[];
  /** What the training did, where the epoch table does not say it all (shown above the table). */
  trainingNote?: string;
  evaluation: Evaluation;
  /** What the evaluation was measured on, in words. */
  measuredOn: string;
  interpretation: Interpretation;
  provenance: Record<string, unknown>;
}

const num = (v: number | undefined, digits = 3) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));
const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);
const png = (bytes: Buffer, alt: string) => `<img alt="${esc(alt)}" src="data:image/png;base64,${bytes.toString('base64')}">`;

function table(header: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
}

/** The validation patients with the highest loss: where labels are per patient, a wrong label is a patient's. */
function patientLossesSection(losses: NonNullable<Interpretation['patientLosses']>, picture: Buffer): string {
  return section(
    'patient-losses',
    'Patients by loss',
    [
      `<p>The validation patients with the highest loss (the least probability on their label), each scored by ${esc(losses.how)}. Labels are given per patient, so a mislabelled patient (or one whose finding the slices do not show) appears here; each row of the picture is a patient's slices most in favour of the predicted class.</p>`,
      table(
        ['patient', 'actual', 'predicted', 'loss', 'p(predicted)', 'slices most in favour (slice p)'],
        losses.patients.map((q) => [
          q.patient,
          q.actual,
          q.predicted,
          q.loss.toFixed(2),
          q.probability.toFixed(2),
          q.slices.map((s) => `${s.path.split('/').pop()} (${s.probability.toFixed(2)})`).join(', '),
        ]),
      ),
      png(picture, 'patients by loss'),
    ].join(''),
  );
}

export function renderReport(r: ReportInput): string {
  const metricNames = Object.keys(r.history[0]?.metrics ?? {});
  const e = r.evaluation;
  const curves = [
    lineChart({
      title: 'loss per epoch',
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        { name: 'train', points: r.history.map((h) => [h.epoch, h.trainLoss] as [number, number]) },
        { name: 'validation', points: r.history.map((h) => [h.epoch, h.validLoss] as [number, number]) },
      ],
    }),
    lineChart({
      title: 'metrics per epoch (validation)',
      xLabel: 'epoch',
      yLabel: 'value',
      series: metricNames.map((m) => ({ name: m, points: r.history.map((h) => [h.epoch, h.metrics[m]] as [number, number]) })),
      yRange: [0, 1],
    }),
  ];
  const it = r.interpretation;
  const body = [
    `<h1>${esc(r.title)}</h1>`,
    `<p class="notice">findstroke is a research tool and triage aid, not a diagnosis. Figures below were measured on ${esc(r.measuredOn)}.</p>`,
    section(
      'data',
      'Data and split',
      [
        `<p>${esc(r.data.source)}: ${r.data.images} images.</p>`,
        table(
          ['class', 'images', 'patients'],
          r.data.classes.map((c) => [c.label, c.images, c.patients]),
        ),
        `<p>Split ${r.split.by === 'patient' ? 'by patient (no patient on both sides)' : 'at random over images (slices of one patient may sit on both sides: figures can be inflated)'}, seed ${r.split.seed}: ${r.split.trainImages} training and ${r.split.validImages} validation images${r.split.validPatients ? `; validation patients: ${esc(r.split.validPatients.join(', '))}` : ''}.</p>`,
      ].join(''),
    ),
    section(
      'training',
      'Training',
      r.history.length
        ? [
            r.trainingNote ? `<p>${esc(r.trainingNote)}</p>` : '',
            table(
              ['epoch', 'phase', 'train_loss', 'valid_loss', ...metricNames, 'time'],
              r.history.map((h) => [
                h.epoch,
                h.phase,
                num(h.trainLoss, 6),
                num(h.validLoss, 6),
                ...metricNames.map((m) => num(h.metrics[m], 6)),
                formatSeconds(h.seconds),
              ]),
            ),
            `<div class="charts">${curves.join('')}</div>`,
          ].join('')
        : `<p>${esc(r.trainingNote ?? 'No epochs recorded.')}</p>`,
    ),
    section(
      'evaluation',
      'Evaluation',
      [
        `<p>Measured on ${esc(r.measuredOn)}.</p>`,
        table(
          ['level', 'n', 'accuracy', 'ROC AUC'],
          [
            ['slice', e.n, pct(e.accuracy), num(e.auc)],
            ...(e.patients !== undefined
              ? [
                  [
                    e.patientTopK === undefined ? 'patient (study model)' : `patient (mean of top-${e.patientTopK} slices)`,
                    e.patients,
                    pct(e.patientAccuracy!),
                    num(e.patientAuc),
                  ],
                ]
              : []),
          ],
        ),
        table(
          ['class', 'sensitivity', 'specificity', 'precision', 'F1', 'AUC', 'support'],
          e.classes.map((c) => {
            const k = e.perClass[c];
            return [c, pct(k.recall), pct(k.specificity), pct(k.precision), num(k.f1), num(e.aucPerClass[c]), k.support];
          }),
        ),
        `<p>Log loss ${num(e.logLoss)}, Brier score ${num(e.brier)}, macro F1 ${num(e.macroF1)}.</p>`,
      ].join(''),
    ),
    section(
      'confusion',
      'Confusion matrix',
      `${it.charts.confusion}${
        it.mostConfused.length
          ? table(
              ['actual', 'predicted', 'images'],
              it.mostConfused.map((m) => [m.actual, m.predicted, m.count]),
            )
          : '<p>No confusions.</p>'
      }`,
    ),
    section('roc', 'ROC and precision-recall', `<div class="charts">${it.charts.roc}${it.charts.precisionRecall}</div>`),
    section('calibration', 'Calibration', `<div class="charts">${it.charts.reliability}</div><p>Expected calibration error ${num(it.calibration.ece)}.</p>`),
    section(
      'top-losses',
      'Top losses with Grad-CAM',
      [
        `<p>The validation images the model got most wrong (highest loss): look here for mislabelled images. Each Grad-CAM map shows where the evidence for the predicted class lies.</p>`,
        png(it.pictures.topLosses, 'top losses'),
        `<div class="gradcams">${it.topLosses.map((t, i) => `<figure>${png(it.pictures.gradcams[i].png, `Grad-CAM ${t.path}`)}<figcaption>${esc(t.actual)} → ${esc(t.predicted)} (loss ${t.loss.toFixed(2)})</figcaption></figure>`).join('')}</div>`,
      ].join(''),
    ),
    ...(it.patientLosses && it.pictures.patientLosses ? [patientLossesSection(it.patientLosses, it.pictures.patientLosses)] : []),
    section('provenance', 'Provenance', `<pre>${esc(JSON.stringify(r.provenance, null, 2))}</pre>`),
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
.notice { background: #fff4d6; border: 1px solid #e0b84a; padding: 0.6em 1em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.gradcams { display: flex; flex-wrap: wrap; gap: 0.6em; }
figure { margin: 0; font-size: 11px; } figure img { width: 160px; }
pre { background: #f6f6f6; padding: 1em; overflow: auto; font-size: 11px; }
</style></head><body>
${body}
</body></html>
`;
}
