import type { Command } from 'commander';
import { setNumThreads } from '../../torch/index.js';
import { crossval } from '../../workflows/crossval.js';
import type { ResNetArch } from '../../models/resnet.js';
import type { Pretrained } from '../../models/create.js';
import { positiveInt, positiveNumber, wholeNumber } from '../options.js';

interface CrossvalCliOptions {
  folds: number;
  groupBy: string;
  seed: number;
  arch: ResNetArch;
  size: number;
  epochs: number;
  freezeEpochs: number;
  lr: number;
  bs: number;
  pretrained: boolean;
  weights?: string;
  bf16?: boolean;
  flip?: boolean;
  out: string;
  threads: number;
}

export function registerCrossval(program: Command): void {
  program
    .command('crossval')
    .description('k-fold cross-validation grouped by patient: per-fold and mean +/- sd AUCs, out-of-fold predictions')
    .argument('<data>', 'dataset with patient ids (manifest.csv patient_id, DICOM PatientID, or pNNN_ file names)')
    .option('--folds <k>', 'number of folds', positiveInt, 5)
    .option('--group-by <how>', 'patient (the only honest choice for correlated slices)', 'patient')
    .option('--seed <n>', 'seed of the folds and training', wholeNumber, 42)
    .option('--arch <arch>', 'resnet50 | resnet34 | resnet18', 'resnet50')
    .option('--size <px>', 'training image size', positiveInt, 128)
    .option('--epochs <n>', 'unfrozen epochs after the frozen one', positiveInt, 3)
    .option('--freeze-epochs <n>', 'epochs with the body frozen', positiveInt, 1)
    .option('--lr <rate>', 'base learning rate', positiveNumber, 2e-3)
    .option('--bs <n>', 'batch size', positiveInt, 32)
    .option('--no-pretrained', 'start from random weights')
    .option('--weights <file.pth>', 'torchvision ImageNet weights (state dict)')
    .option('--bf16', 'train with bfloat16 autocast')
    .option('--flip', 'add left-right flips to the augmentation')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .option('--out <dir>', 'where to write crossval.json, oof.csv and fold logs', 'runs/crossval')
    .action(async (data: string, o: CrossvalCliOptions) => {
      if (o.groupBy !== 'patient') throw new Error(`--group-by ${o.groupBy}: cross-validation here groups by patient only (a random slice split leaks patients across folds)`);
      setNumThreads(o.threads);
      const pretrained: Pretrained = o.weights ? { torchvision: o.weights } : o.pretrained ? 'imagenet' : 'none';
      await crossval({ data, out: o.out, folds: o.folds, seed: o.seed, arch: o.arch, pretrained, size: o.size, epochs: o.epochs, freezeEpochs: o.freezeEpochs, lr: o.lr, batchSize: o.bs, bf16: o.bf16, flip: o.flip });
    });
}
