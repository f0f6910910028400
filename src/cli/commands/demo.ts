/**
 * `findstroke demo`: the README's main job on the bundled default data. It generates the synthetic
 * head-CT phantom dataset (DICOM, three classes, several slices per patient), fine-tunes the ImageNet
 * ResNet-50 as the reference notebook does with a patient-level split, prints the epoch table, the
 * confusion matrix and the metrics, and saves the model.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setNumThreads } from '../../torch/index.js';
import { writePhantomDataset } from '../../data/phantoms/index.js';
import { trainRun } from '../../workflows/train-run.js';
import { positiveInt, wholeNumber } from '../options.js';

interface DemoOptions {
  out: string;
  patients: number;
  slices: number;
  epochs: number;
  seed: number;
  threads: number;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job: generate synthetic head-CT phantoms, fine-tune ResNet-50 on them, evaluate by patient, save the model')
    .option('--out <dir>', 'demo folder (data and run)', 'runs/demo')
    .option('--patients <n>', 'phantom patients (a third per class)', positiveInt, 30)
    .option('--slices <n>', 'slices per patient', positiveInt, 12)
    .option('--epochs <n>', 'unfrozen epochs after the frozen one', positiveInt, 2)
    .option('--seed <n>', 'seed of the phantoms, split and training', wholeNumber, 0)
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .action(async (o: DemoOptions) => {
      setNumThreads(o.threads);
      console.log('findstroke demo: synthetic head CT, three classes. findstroke is a research tool and triage aid, not a diagnosis.\n');
      const data = join(o.out, `phantoms-${o.patients}x${o.slices}-seed${o.seed}`);
      if (existsSync(join(data, 'manifest.csv'))) {
        console.log(`phantoms: reusing ${data}`);
      } else {
        const written = await writePhantomDataset(data, { patients: o.patients, slices: o.slices, seed: o.seed, format: 'dicom' });
        console.log(`phantoms: ${written.filesWritten} DICOM slices of ${o.patients} synthetic patients written to ${data}`);
      }
      await trainRun({ data, out: join(o.out, 'run'), arch: 'resnet50', pretrained: 'imagenet', epochs: o.epochs, seed: o.seed, batchSize: 32 });
    });
}
