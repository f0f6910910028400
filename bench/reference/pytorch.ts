/**
 * The reference side of the real-data benchmarks: Debian's PyTorch running bench/reference/fastai_recipe.py
 * on a split file, with the same ImageNet ResNet-50 body findstroke uses (exported in torchvision layout).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { saveModuleWeights } from '../../src/torch/io/module-weights.js';
import { createClassifier } from '../../src/models/create.js';
import type { Dataset } from '../../src/data/types.js';

const PYTHON = '/usr/bin/python3';
const script = fileURLToPath(new URL('./fastai_recipe.py', import.meta.url));

export interface ReferenceResult {
  wall_s: number;
  valid_accuracy: number;
  valid_auc: number;
  valid_patient_auc: number;
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

/** Runs the reference recipe (fine_tune: 1 frozen + `epochs` unfrozen) on a split file; its output streams to the console. */
export function runReference(o: { split: string; weights: string; epochs: number; seed: number; out: string }): ReferenceResult {
  execFileSync(PYTHON, [script, '--split', o.split, '--weights', o.weights, '--epochs', String(o.epochs), '--seed', String(o.seed), '--out', o.out], {
    stdio: 'inherit',
  });
  return JSON.parse(readFileSync(o.out, 'utf8')) as ReferenceResult;
}
