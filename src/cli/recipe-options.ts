/**
 * The command-line options that describe a training recipe, shared by `train`, `crossval` and
 * `lr-find` so that the three accept the same words with the same defaults.
 */
import type { Command } from 'commander';
import { checkDevice, cpuHasNativeBf16, defaultDevice, setNumThreads, type Device } from '../torch/index.js';
import { distributedEnv } from '../torch/distributed.js';
import type { ResNetArch } from '../models/resnet.js';
import type { Pretrained } from '../models/create.js';
import { recipeNamed } from '../workflows/recipes/index.js';
import { TRAINING_OPTIONS, type Recipe, type TrainingSettings } from '../workflows/recipes/recipe.js';
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
  device?: string;
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
    .option('--bf16', 'train with bfloat16 autocast (the default where this CPU computes bfloat16 natively: AVX512-BF16 or AMX)')
    .option('--no-bf16', 'train in float32 even where this CPU computes bfloat16 natively')
    .option(
      '--device <device>',
      'cpu | cuda | cuda:N (default: cuda where this libtorch sees a GPU, else cpu); data-parallel ranks on cuda take the GPU of their local rank',
    )
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

/** Checks the options and sets the thread count; the training settings of the command line, and which of them were given. */
export function trainingSettings(o: RecipeCliOptions, command: Command): TrainingSettings {
  if (!ARCHS.includes(o.arch as ResNetArch)) throw new Error(`--arch must be resnet18, resnet34 or resnet50, got '${o.arch}'`);
  setNumThreads(o.threads);
  const pretrained: Pretrained = o.weights ? { torchvision: o.weights } : o.pretrained ? 'imagenet' : 'none';
  const { size, seed, maskOutsideHead, epochs, freezeEpochs, trainFrom, lr, bs, flip, balanceLoss, oversample, saveBest } = o;
  const device = rankDevice(checkDevice(o.device ?? defaultDevice()));
  // bfloat16 where the device computes it natively (a GPU; a CPU with AVX512-BF16 or AMX): the same AUC as
  // float32, fold by fold on real CT, in about half the time (docs/engine.md); emulated bfloat16 is slower.
  const bf16 = o.bf16 ?? (device !== 'cpu' || cpuHasNativeBf16());
  const values = { size, seed, maskOutsideHead, epochs, freezeEpochs, trainFrom, lr, bs, bf16, device, flip, balanceLoss, oversample, saveBest };
  return {
    ...values,
    arch: o.arch as ResNetArch,
    pretrained,
    given: (option) => command.getOptionValueSource(option) === 'cli',
  };
}

/** A data-parallel rank on 'cuda' takes the GPU of its rank on this machine, as torchrun's LOCAL_RANK conventions have it. */
function rankDevice(device: Device): Device {
  const rank = distributedEnv();
  return device === 'cuda' && rank ? `cuda:${rank.localRank}` : device;
}

/** The `--recipe` option of `train` and `crossval`. */
export function withRecipeChoice(command: Command): Command {
  return command.option(
    '--recipe <name>',
    "slice: fine-tune on slices (the fastai reference); study: attention-MIL over each study's frozen-body slice embeddings; study-finetune: the same with the body's last stage fine-tuned with it (slower); study-linear: a linear classifier of each slice's frozen-body embedding (of the slice and of its stroke-window view), averaged over the study. The study recipes take --arch, --size, --seed, the weights options and --mask-outside-head, and keep their own schedule but for --epochs (the study head's passes, the linear head's steps) and --lr; they refuse the other training options",
    'slice',
  );
}

/**
 * The recipe `--recipe` names and its options from the command line.
 * @throws Error for a recipe name findstroke does not have, or naming a training option given that the recipe does not take.
 */
export function recipeFrom(name: string, o: RecipeCliOptions, command: Command): { recipe: Recipe; options: unknown; settings: TrainingSettings } {
  const recipe = recipeNamed(name);
  const settings = trainingSettings(o, command);
  // The flag as given: a negatable option's `--no-` form where that set it false (`--no-bf16`).
  const flag = (option: string) => {
    const flags = command.options.filter((opt) => opt.attributeName() === option);
    return (flags.find((opt) => opt.negate === (command.getOptionValue(option) === false)) ?? flags[0])?.long ?? option;
  };
  const refused = TRAINING_OPTIONS.find((option) => settings.given(option) && !recipe.takes.includes(option));
  if (refused)
    throw new Error(
      `${flag(refused)}: the ${recipe.name} recipe does not take this option (of the training options it takes ${recipe.takes.map(flag).join(', ')})`,
    );
  return { recipe, options: recipe.options(settings), settings };
}
