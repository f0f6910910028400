/**
 * The reference side of the benchmarks: Debian's PyTorch running bench/reference/fastai_recipe.py on a split
 * file, with the same ImageNet ResNet-50 body findstroke uses (exported in torchvision layout), and the
 * environment a PyTorch reference runs in, as shipped or tuned.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { saveModuleWeights } from '../../src/torch/io/module-weights.js';
import { createClassifier } from '../../src/models/create.js';
import { engineInfo } from '../../src/torch/index.js';
import type { Dataset } from '../../src/data/types.js';

const PYTHON = '/usr/bin/python3';
const script = fileURLToPath(new URL('./fastai_recipe.py', import.meta.url));

export interface ReferenceResult {
  wall_s: number;
  valid_accuracy: number;
  valid_auc: number;
  valid_patient_auc: number;
  /**
   * The final model predicting the validation slices from their files, timed apart from wall_s: tuned, by the
   * faster of PyTorch's inference paths, each one's seconds in `seconds_by_path`.
   */
  inference: { slices: number; seconds: number; slices_per_s: number; max_probability_difference: number; seconds_by_path: Record<string, number> };
  /** What the run used: memory format, malloc settings, threads, how it evaluated and predicted. */
  settings: RunSettings;
}

/** What a benchmark process says it ran with (memory format, malloc settings, threads...), setting by setting. */
export type RunSettings = Record<string, string | number>;

/** `settings` in one line, for a benchmark's printout. */
export function describeSettings(settings: RunSettings): string {
  return Object.entries(settings)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}

/** The malloc settings findstroke's addon applies to itself (native/src/addon.cc), as engineInfo reports them. */
export type AllocatorSettings = ReturnType<typeof engineInfo>['allocator'];

const MALLOC_VARIABLES = ['MALLOC_MMAP_MAX_', 'MALLOC_TRIM_THRESHOLD_'] as const;

/**
 * The environment of a PyTorch reference process: as shipped, glibc's malloc defaults (whatever `env` set is
 * dropped); tuned, the malloc settings findstroke's addon gives itself, so that allocation costs the same on both sides.
 */
export function referenceEnv(tuned: boolean, allocator: AllocatorSettings = engineInfo().allocator, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const shipped = Object.fromEntries(Object.entries(env).filter(([name]) => !(MALLOC_VARIABLES as readonly string[]).includes(name)));
  if (!tuned || !allocator) return shipped;
  return { ...shipped, MALLOC_MMAP_MAX_: String(allocator.mmapMax), MALLOC_TRIM_THRESHOLD_: String(allocator.trimThreshold) };
}

/** Exits with a clear message when Debian's PyTorch (the reference engine) is missing. */
export function requireDebianPyTorch(bench: string): void {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' });
  } catch {
    console.error(`${bench} needs Debian's PyTorch for the reference: apt-get install python3-torch python3-torchvision python3-pil`);
    process.exit(1);
  }
}

/** Writes the ImageNet ResNet-50 body to `path` (safetensors, torchvision names) for the reference to load. */
export async function exportImageNetBody(path: string, classes: number): Promise<void> {
  const pretrained = await createClassifier({ arch: 'resnet50', numClasses: classes, pretrained: 'imagenet' });
  saveModuleWeights(pretrained.body, path);
  pretrained.dispose();
}

type SplitSides = { train: number[]; valid: number[]; validPatients?: string[] };

/** The split file the reference script reads: every sample of each side with its label and patient. */
function splitFileText(dataset: Dataset, split: SplitSides, seed: number): string {
  const row = (i: number) => ({ path: dataset.samples[i].path, label: dataset.samples[i].label, patient_id: dataset.samples[i].patientId });
  return JSON.stringify({ classes: dataset.classes, seed, validPatients: split.validPatients, train: split.train.map(row), valid: split.valid.map(row) });
}

/** Writes the split file the reference script reads. */
export function writeSplitFile(path: string, dataset: Dataset, split: SplitSides, seed: number): void {
  writeFileSync(path, splitFileText(dataset, split, seed));
}

/** As {@link writeSplitFile}, but leaves an identical file untouched (its age tells which results belong to it). */
export function writeSplitFileIfChanged(path: string, dataset: Dataset, split: SplitSides, seed: number): void {
  const text = splitFileText(dataset, split, seed);
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text);
}

/** A reference run: the split file, the body's weights, unfrozen epochs, training seed, result file, and whether PyTorch runs tuned. */
export interface ReferenceRun {
  split: string;
  weights: string;
  epochs: number;
  seed: number;
  out: string;
  tuned: boolean;
}

/** fastai_recipe.py's arguments for `run`. */
export function referenceArgs(run: ReferenceRun): string[] {
  const args = ['--split', run.split, '--weights', run.weights, '--epochs', String(run.epochs), '--seed', String(run.seed), '--out', run.out];
  return run.tuned ? [...args, '--tuned'] : args;
}

/**
 * Runs the reference recipe (fine_tune: 1 frozen + `epochs` unfrozen) on a split file, tuned or as shipped (see
 * {@link referenceEnv}); its output streams to the console.
 */
export function runReference(run: ReferenceRun): ReferenceResult {
  execFileSync(PYTHON, [script, ...referenceArgs(run)], { stdio: 'inherit', env: referenceEnv(run.tuned) });
  return JSON.parse(readFileSync(run.out, 'utf8')) as ReferenceResult;
}
