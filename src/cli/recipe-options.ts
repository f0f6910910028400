/**
 * The command-line options that describe a training recipe, shared by `train`, `crossval` and
 * `lr-find` so that the three accept the same words with the same defaults.
 */
import type { Command } from 'commander';
import { setNumThreads } from '../torch/index.js';
import type { ResNetArch } from '../models/resnet.js';
import type { Pretrained } from '../models/create.js';
import type { FitOptions } from '../workflows/fit.js';
import type { ImageDataOptions } from '../data/dataloaders.js';
import { DEFAULT_STUDY_RECIPE, FINE_TUNED_STUDY_RECIPE, LINEAR_STUDY_RECIPE, type StudyRecipe } from '../workflows/study-crossval.js';
import { positiveInt, positiveNumber, wholeNumber } from './options.js';

export interface RecipeCliOptions {
  arch: string;
  size: number;
  epochs: number;
  freezeEpochs: number;
  trainFrom: number;
  lr: number;
  bs: number;
  seed: number;
  pretrained: boolean;
  weights?: string;
  bf16?: boolean;
  flip?: boolean;
  maskOutsideHead?: boolean;
  balanceLoss?: boolean;
  oversample?: boolean;
  saveBest?: boolean;
  threads: number;
}

const ARCHS: ResNetArch[] = ['resnet18', 'resnet34', 'resnet50'];

/** Adds the recipe options to `command`. */
export function withRecipeOptions(command: Command): Command {
  return command
    .option('--arch <arch>', 'resnet50 | resnet34 | resnet18', 'resnet50')
    .option('--size <px>', 'training image size', positiveInt, 128)
    .option('--epochs <n>', 'unfrozen epochs after the frozen one', positiveInt, 3)
    .option('--freeze-epochs <n>', 'epochs with the body frozen', positiveInt, 1)
    .option(
      '--train-from <group>',
      'first layer group the unfrozen epochs train: 0 all (fastai), 1 leaves stem..layer2 fixed (~35% faster steps)',
      wholeNumber,
      0,
    )
    .option('--lr <rate>', 'base learning rate (fastai fine_tune)', positiveNumber, 2e-3)
    .option('--bs <n>', 'batch size', positiveInt, 32)
    .option('--seed <n>', 'seed of the split, initialisation and augmentation', wholeNumber, 42)
    .option('--no-pretrained', 'start from random weights')
    .option('--weights <file.pth>', 'torchvision ImageNet weights for resnet18/34/50 (state dict)')
    .option('--bf16', 'train with bfloat16 autocast')
    .option('--flip', 'add left-right flips to the augmentation')
    .option(
      '--mask-outside-head',
      'blank everything outside the head (table, hands, text) before the model sees a slice; saved with the model, so prediction does the same',
    )
    .option('--balance-loss', 'weight the loss by inverse class frequency')
    .option('--oversample', 'draw training images so that every class is seen equally often')
    .option('--save-best', 'keep the epoch with the lowest validation loss (also on Ctrl-C) instead of the last')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2);
}

/** Checks the options, sets the thread count, and turns them into the workflows' options. */
export function recipeFrom(o: RecipeCliOptions): FitOptions & ImageDataOptions {
  if (!ARCHS.includes(o.arch as ResNetArch)) throw new Error(`--arch must be resnet18, resnet34 or resnet50, got '${o.arch}'`);
  setNumThreads(o.threads);
  const pretrained: Pretrained = o.weights ? { torchvision: o.weights } : o.pretrained ? 'imagenet' : 'none';
  return {
    arch: o.arch as ResNetArch,
    pretrained,
    size: o.size,
    epochs: o.epochs,
    freezeEpochs: o.freezeEpochs,
    trainFrom: o.trainFrom,
    lr: o.lr,
    batchSize: o.bs,
    seed: o.seed,
    bf16: o.bf16,
    flip: o.flip,
    maskOutsideHead: o.maskOutsideHead,
    balanceLoss: o.balanceLoss,
    oversample: o.oversample,
    saveBest: o.saveBest,
  };
}

const STUDY_RECIPES: Record<string, StudyRecipe> = {
  study: DEFAULT_STUDY_RECIPE,
  'study-finetune': FINE_TUNED_STUDY_RECIPE,
  'study-linear': LINEAR_STUDY_RECIPE,
};

/** The `--recipe` option of `train` and `crossval`. */
export function withRecipeChoice(command: Command): Command {
  return command.option(
    '--recipe <name>',
    "slice: fine-tune on slices (the fastai reference); study: attention-MIL over each study's frozen-body slice embeddings; study-finetune: the same with the body's last stage fine-tuned with it (slower); study-linear: a linear classifier of each slice's frozen-body embedding (of the slice and of its stroke-window view), averaged over the study. The study recipes take --arch, --size, --seed, the weights options and --mask-outside-head, and keep their own schedule",
    'slice',
  );
}

/**
 * The study-level recipe `--recipe` names, with the architecture, weights and (when given) size of
 * the command line; undefined for the slice recipe.
 * @throws Error for a recipe name findstroke does not have.
 */
export function studyRecipeFrom(name: string, command: Command, recipe: FitOptions & ImageDataOptions): StudyRecipe | undefined {
  if (name === 'slice') return undefined;
  const study = STUDY_RECIPES[name];
  if (!study) throw new Error(`--recipe must be slice, ${Object.keys(STUDY_RECIPES).join(', ')}, got '${name}'`);
  // The study recipe's own size unless --size was given.
  const size = command.getOptionValueSource('size') === 'default' ? study.size : recipe.size;
  return { ...study, arch: recipe.arch, pretrained: recipe.pretrained, size, maskOutsideHead: recipe.maskOutsideHead };
}
