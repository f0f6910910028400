/**
 * `findstroke demo`, the README's main job: synthetic head-CT phantoms, a patient-level split, ResNet-50
 * fine-tuned with the choices a practitioner would make for this data, evaluated by patient, saved. Every
 * choice is printed with its reason before training, and every figure is labelled a phantom figure.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writePhantomDataset } from '../data/phantoms/index.js';
import { HEAD_CT_WINDOWS, type VoiWindow } from '../data/window.js';
import { STUDY_TOP_K } from '../learn/metrics.js';
import { trainRun, type TrainRunOptions, type TrainRunResult } from './train-run.js';

export interface DemoOptions {
  /** The demo's folder: the phantoms and the run. */
  out: string;
  /** Phantom patients, a third per class. */
  patients: number;
  slices: number;
  /** Epochs, all of them training the whole network. */
  epochs: number;
  /** Square input size in pixels. */
  size: number;
  seed: number;
  threads: number;
  /** Whether this CPU computes bfloat16 natively (`cpuHasNativeBf16`). */
  nativeBf16: boolean;
  /** Train in bfloat16 where the CPU computes it natively (default true). */
  bf16?: boolean;
  log?: (line: string) => void;
}

/** The demo's defaults: measured to train within 3 minutes on 2 cores (docs/demo.md). */
export const DEMO_DEFAULTS = { patients: 120, slices: 12, epochs: 4, size: 96, seed: 0, threads: 2 } as const;

const WINDOWS: readonly (readonly [string, VoiWindow])[] = [
  ['brain', HEAD_CT_WINDOWS.brain],
  ['subdural', HEAD_CT_WINDOWS.subdural],
  ['stroke', HEAD_CT_WINDOWS.stroke],
];

/** The share of patients held out: the reference notebook's. */
const VALID_PCT = 0.2;

export interface DemoChoice {
  what: string;
  why: string;
}

/** What the demo trains with, and why: the recipe handed to {@link trainRun} and the lines that explain it. */
export function demoRecipe(o: DemoOptions): { recipe: Omit<TrainRunOptions, 'data' | 'out'>; choices: DemoChoice[] } {
  const validPatients = Math.round(o.patients * VALID_PCT);
  const useBf16 = o.nativeBf16 && o.bf16 !== false;
  const windows = WINDOWS.map(([name, w]) => `${name} (level ${w.center}, width ${w.width})`).join(', ');
  return {
    recipe: {
      arch: 'resnet50',
      pretrained: 'imagenet',
      size: o.size,
      windows: WINDOWS.map(([, w]) => w),
      epochs: o.epochs,
      freezeEpochs: 0,
      lr: 2e-3,
      bf16: useBf16,
      memoryFormat: 'contiguous',
      batchSize: 32,
      validPct: VALID_PCT,
      seed: o.seed,
    },
    choices: [
      {
        what: `${o.patients} patients (a third per class), ${o.slices} slices each, ${validPatients} held out by patient`,
        why: `labels are per patient, so only patients the model never saw measure it; each of them moves patient accuracy by ${(100 / validPatients).toFixed(0)} points`,
      },
      {
        what: `three CT windows as the three channels: ${windows}`,
        why: 'no one window shows both lesions: an infarct is a few HU darker than brain (the narrow stroke window spreads them apart), blood is brighter than brain and lies against bone (the wider subdural window keeps its edge)',
      },
      {
        what: `${o.size} px inputs`,
        why: 'the lesions of these phantoms stay visible at this size, and it lets enough epochs fit in about two minutes on 2 cores; 128 px fits too few',
      },
      {
        what: `ResNet-50 from ImageNet, ${o.epochs} epochs of the whole network (discriminative learning rates, one-cycle, peak 2e-3)`,
        why: "fastai's fine_tune first trains only the head for an epoch; on synthetic CT, which looks nothing like ImageNet photos, that epoch is better spent adapting the body",
      },
      {
        what: `each patient read as a study: the mean of its top ${STUDY_TOP_K} slice probabilities per class`,
        why: 'a lesion shows on a few slices only, and the triage service scores a study the same way',
      },
      {
        what: 'NCHW tensors (not channels-last, the default on a CPU)',
        why: 'the layout the demo was measured in over several seeds (docs/demo.md): channels-last trains it about a quarter faster here, but rounds bfloat16 differently and, on seed 0, called one more of the 24 held-out patients wrong',
      },
      useBf16
        ? { what: 'bfloat16 autocast', why: 'this CPU computes bfloat16 natively, which trains ResNet-50 about 1.5x faster than float32 (bench:engine)' }
        : o.nativeBf16
          ? { what: 'float32', why: 'asked for with --no-bf16' }
          : { what: 'float32', why: 'this CPU has no native bfloat16 (AVX512-BF16 or AMX), and emulated bfloat16 is slower than float32' },
    ],
  };
}

export async function runDemo(o: DemoOptions): Promise<TrainRunResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  log('findstroke demo: synthetic head CT, three classes. findstroke is a research tool and triage aid, not a diagnosis.\n');
  const data = join(o.out, `phantoms-${o.patients}x${o.slices}-seed${o.seed}`);
  if (existsSync(join(data, 'manifest.csv'))) {
    log(`phantoms: reusing ${data}`);
  } else {
    const written = await writePhantomDataset(data, { patients: o.patients, slices: o.slices, seed: o.seed, format: 'dicom' });
    log(`phantoms: ${written.filesWritten} DICOM slices of ${o.patients} synthetic patients written to ${data}`);
  }
  const { recipe, choices } = demoRecipe(o);
  log('\nchosen for this data, and why:');
  for (const { what, why } of choices) log(`  - ${what}: ${why}`);
  log('');
  const run = await trainRun({ ...recipe, data, out: join(o.out, 'run'), log });

  const e = run.evaluation;
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  log(
    '\nPHANTOM FIGURES: measured on synthetic patients that findstroke drew itself, not on real CT; they show the workflow works, not how a model does on patients',
  );
  if (e.patients !== undefined) {
    log(`  ${e.patients} held-out patients, each read as a study: accuracy ${percent(e.patientAccuracy!)}, ROC AUC ${e.patientAuc!.toFixed(3)}`);
  }
  log(
    `  ${e.n} held-out slices: accuracy ${percent(e.accuracy)}, ROC AUC ${e.auc.toFixed(3)} (capped: a stroke patient's slices that miss the lesion still say stroke)`,
  );
  return run;
}
