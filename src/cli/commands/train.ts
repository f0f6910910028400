import type { Command } from 'commander';
import { setNumThreads } from '../../torch/index.js';
import { trainRun } from '../../workflows/train-run.js';
import type { ResNetArch } from '../../models/resnet.js';
import type { Pretrained } from '../../models/create.js';
import { positiveInt, positiveNumber, fraction, wholeNumber } from '../options.js';

interface TrainCliOptions {
  arch: ResNetArch;
  size: number;
  epochs: number;
  freezeEpochs: number;
  lr: number;
  bs: number;
  validPct: number;
  seed: number;
  groupBy: 'patient' | 'random' | 'auto';
  pretrained: boolean;
  weights?: string;
  out: string;
  threads: number;
  bf16?: boolean;
  flip?: boolean;
  balanceLoss?: boolean;
  oversample?: boolean;
  targetSensitivity: number;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('fine-tune a pretrained CNN on DATA (class folders or manifest.csv), as fastai\'s fine_tune, and export the model')
    .argument('<data>', 'dataset folder (class folders, or a manifest.csv inside) or a manifest CSV')
    .option('--arch <arch>', 'resnet50 | resnet34 | resnet18', 'resnet50')
    .option('--size <px>', 'training image size', positiveInt, 128)
    .option('--epochs <n>', 'unfrozen epochs after the frozen one', positiveInt, 3)
    .option('--freeze-epochs <n>', 'epochs with the body frozen', positiveInt, 1)
    .option('--lr <rate>', 'base learning rate (fastai fine_tune)', positiveNumber, 2e-3)
    .option('--bs <n>', 'batch size', positiveInt, 32)
    .option('--valid-pct <p>', 'share of patients (or images) held out for validation', fraction, 0.2)
    .option('--seed <n>', 'seed of the split, initialisation and augmentation', wholeNumber, 42)
    .option('--group-by <how>', 'patient | random | auto (patient when ids are known)', 'auto')
    .option('--no-pretrained', 'start from random weights')
    .option('--weights <file.pth>', 'torchvision ImageNet weights for resnet18/34/50 (state dict)')
    .option('--bf16', 'train with bfloat16 autocast')
    .option('--flip', 'add left-right flips to the augmentation')
    .option('--balance-loss', 'weight the loss by inverse class frequency')
    .option('--oversample', 'draw training images so that every class is seen equally often')
    .option('--target-sensitivity <s>', 'triage thresholds aim for this sensitivity on validation data', fraction, 0.9)
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .option('--out <dir>', 'run folder: model, logs, metrics', 'runs/latest')
    .action(async (data: string, o: TrainCliOptions) => {
      if (!['resnet18', 'resnet34', 'resnet50'].includes(o.arch)) throw new Error(`--arch must be resnet18, resnet34 or resnet50, got '${o.arch}'`);
      if (!['patient', 'random', 'auto'].includes(o.groupBy)) throw new Error(`--group-by must be patient, random or auto, got '${o.groupBy}'`);
      setNumThreads(o.threads);
      const pretrained: Pretrained = o.weights ? { torchvision: o.weights } : o.pretrained ? 'imagenet' : 'none';
      await trainRun({
        data,
        out: o.out,
        arch: o.arch,
        pretrained,
        size: o.size,
        epochs: o.epochs,
        freezeEpochs: o.freezeEpochs,
        lr: o.lr,
        batchSize: o.bs,
        validPct: o.validPct,
        seed: o.seed,
        splitBy: o.groupBy,
        bf16: o.bf16,
        flip: o.flip,
        balanceLoss: o.balanceLoss,
        oversample: o.oversample,
        targetSensitivity: o.targetSensitivity,
      });
    });
}
