import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { datasetFromPath } from '../../data/sources/index.js';
import { loadExportedModel } from '../../inference/exported-model.js';
import { patientLossText, writeInterpretation, type LabelledFile } from '../../interpret/interpret.js';
import { positiveInt } from '../options.js';

/**
 * The labelled files to interpret: a run folder's validation images (from its split.json) when given a
 * run, else every image of DATA.
 */
function filesOf(runOrModel: string, samples: LabelledFile[]): { model: string; files: LabelledFile[]; what: string } {
  if (!statSync(runOrModel).isDirectory()) return { model: runOrModel, files: samples, what: `all ${samples.length} images of the data` };
  const model = join(runOrModel, 'model.safetensors');
  const splitPath = join(runOrModel, 'split.json');
  if (!existsSync(model)) throw new Error(`${runOrModel}: no model.safetensors in this run folder`);
  if (!existsSync(splitPath)) return { model, files: samples, what: `all ${samples.length} images of the data` };
  const valid = new Set((JSON.parse(readFileSync(splitPath, 'utf8')) as { valid: string[] }).valid.map((p) => resolve(p)));
  const files = samples.filter((s) => valid.has(resolve(s.path)));
  if (!files.length) throw new Error(`${splitPath}: none of the run's validation images are in the data given`);
  return { model, files, what: `the run's ${files.length} validation images` };
}

export function registerInterpret(program: Command): void {
  program
    .command('interpret')
    .description('confusion matrix, images sorted by loss with Grad-CAM, calibration and ROC for a model on labelled data')
    .argument('<run-or-model>', 'a run folder (uses its validation split) or a model file')
    .argument('<data>', 'dataset folder (class folders or manifest.csv) or a manifest CSV')
    .option('--out <dir>', 'where to write the pictures and interpretation.json', 'interpretation')
    .option('--k <n>', 'how many top-loss images', positiveInt, 9)
    .option('--layer <name>', 'convolutional layer for Grad-CAM (default: the last)')
    .option('--method <m>', 'gradcam | gradcam++', 'gradcam')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .action(async (runOrModel: string, data: string, o: { out: string; k: number; layer?: string; method: string; threads: number }) => {
      if (o.method !== 'gradcam' && o.method !== 'gradcam++') throw new Error(`--method must be gradcam or gradcam++, got '${o.method}'`);
      const dataset = await datasetFromPath(data);
      const { model, files, what } = filesOf(runOrModel, dataset.samples);
      const { notes, interpretation: result } = await loadExportedModel(model, o.threads).interpret(files, { k: o.k, layer: o.layer, method: o.method });
      for (const note of notes) console.log(note);
      await writeInterpretation(o.out, result);
      console.log(`interpreted ${what}`);
      console.log(
        `most confused: ${
          result.mostConfused
            .slice(0, 5)
            .map((m) => `${m.actual} -> ${m.predicted} (${m.count})`)
            .join(', ') || 'none'
        }`,
      );
      console.log(`expected calibration error ${result.calibration.ece.toFixed(3)}`);
      console.log(`top losses:`);
      for (const t of result.topLosses) console.log(`  ${t.loss.toFixed(3)}  ${t.actual} -> ${t.predicted} (p ${t.probability.toFixed(2)})  ${t.path}`);
      if (result.patientLosses) {
        console.log(`patients by loss (each scored by ${result.patientLosses.how}):`);
        for (const q of result.patientLosses.patients)
          console.log(`  ${q.loss.toFixed(3)}  ${patientLossText(q)}; most in favour: ${q.slices.map((s) => basename(s.path)).join(', ')}`);
      }
      console.log(
        `written to ${o.out}/: confusion.png, top_losses.png, gradcam/, roc.png, reliability.png, ${result.patientLosses ? 'top_patient_losses.png, ' : ''}interpretation.json`,
      );
    });
}
