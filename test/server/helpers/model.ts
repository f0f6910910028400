/**
 * The tests' model: a tiny ResNet-18 (32 px) trained for one epoch on phantom DICOM, once, and kept in
 * the system's temporary folder so every test file (and the next run) reuses it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePhantomDataset } from '../../../src/data/phantoms/index.js';
import { readModelSpec, saveModel } from '../../../src/learn/model-file.js';
import { createClassifier } from '../../../src/models/create.js';
import { fastaiValidationSize } from '../../../src/data/transforms/resize.js';
import { RSNA_ICH_WINDOWS } from '../../../src/data/window.js';
import { trainRun } from '../../../src/workflows/train-run.js';

const CACHE = join(tmpdir(), 'findstroke-triage-test-model-v1');
const MODEL = join(CACHE, 'model.safetensors');

/** The path of the trained test model, training it first if no usable copy is cached. */
export async function triageTestModel(): Promise<string> {
  if (existsSync(MODEL) && readable(MODEL)) return MODEL;
  await mkdir(tmpdir(), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'findstroke-triage-train-'));
  try {
    const data = join(work, 'data');
    await writePhantomDataset(data, { patients: 9, slices: 2, seed: 1, format: 'dicom', size: 64 });
    const run = await trainRun({
      data,
      out: join(work, 'run'),
      arch: 'resnet18',
      pretrained: 'none',
      size: 32,
      batchSize: 4,
      epochs: 1,
      seed: 3,
      log: () => undefined,
    });
    await mkdir(CACHE, { recursive: true });
    // Rename: a test file running alongside sees the whole model or none.
    await rename(run.modelPath, MODEL);
    return MODEL;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function readable(path: string): boolean {
  try {
    readModelSpec(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * An untrained ResNet-18 at 224 px: slow enough on a CPU (tenths of a second per slice) that a test
 * can watch the service while a study is being classified. Written into `folder`.
 */
export async function slowTestModel(folder: string): Promise<string> {
  const model = await createClassifier({ arch: 'resnet18', numClasses: 3, pretrained: 'none' });
  const path = join(folder, 'slow-model.safetensors');
  saveModel(path, model, {
    classes: ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain'],
    input: { size: 224, resize: fastaiValidationSize(224), windows: [...RSNA_ICH_WINDOWS] },
  });
  return path;
}
