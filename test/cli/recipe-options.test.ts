import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { cpuHasNativeBf16, cudaBuild, cudaDeviceCount, defaultDevice } from '../../src/torch/index.js';
import { recipeFrom, withRecipeChoice, withRecipeOptions, type RecipeCliOptions } from '../../src/cli/recipe-options.js';
import type { StudyRecipe } from '../../src/workflows/recipes/study.js';
import type { FineTuneRecipeOptions } from '../../src/workflows/recipes/fine-tune.js';

/** What `recipeFrom` makes of a command line (the words after `findstroke train DATA`). */
function parse(...words: string[]): ReturnType<typeof recipeFrom> {
  let chosen: ReturnType<typeof recipeFrom> | undefined;
  const command = withRecipeChoice(withRecipeOptions(new Command().exitOverride())).action((o: RecipeCliOptions & { recipe: string }) => {
    chosen = recipeFrom(o.recipe, o, command);
  });
  command.parse(words, { from: 'user' });
  return chosen!;
}

test('a recipe refuses, by name, a training option it does not take', () => {
  assert.throws(() => parse('--recipe', 'study', '--bf16'), {
    message: '--bf16: the study recipe does not take this option (of the training options it takes --epochs, --lr)',
  });
  assert.throws(() => parse('--recipe', 'study-linear', '--freeze-epochs', '2'), /^Error: --freeze-epochs: the study-linear recipe does not take this option/);
  assert.throws(() => parse('--recipe', 'study-finetune', '--bs', '4'), /^Error: --bs: the study-finetune recipe/);
  for (const option of [['--train-from', '1'], ['--flip'], ['--balance-loss'], ['--oversample'], ['--save-best']])
    assert.throws(() => parse('--recipe', 'study', ...option), new RegExp(`^Error: ${option[0]}: the study recipe does not take this option`));
  // The fine-tune recipe takes them all.
  const { options } = parse('--bf16', '--freeze-epochs', '2', '--bs', '4', '--save-best');
  assert.deepEqual(
    (({ bf16, freezeEpochs, batchSize, saveBest }: FineTuneRecipeOptions) => ({ bf16, freezeEpochs, batchSize, saveBest }))(options as FineTuneRecipeOptions),
    { bf16: true, freezeEpochs: 2, batchSize: 4, saveBest: true },
  );
});

test('the fine-tune recipe trains in bfloat16 where the CPU computes it natively, unless --no-bf16', () => {
  const bf16 = (...words: string[]) => (parse(...words).options as FineTuneRecipeOptions).bf16;
  assert.equal(bf16(), cpuHasNativeBf16());
  assert.equal(bf16('--no-bf16'), false);
  assert.equal(bf16('--bf16'), true);
  assert.throws(() => parse('--recipe', 'study', '--no-bf16'), /^Error: --no-bf16: the study recipe does not take this option/);
});

test('the fine-tune recipe trains on the GPU where libtorch sees one, else on the CPU; --device picks, and one it cannot use is refused', () => {
  const device = (...words: string[]) => (parse(...words).options as FineTuneRecipeOptions).device;
  assert.equal(device(), defaultDevice());
  assert.equal(device('--device', 'cpu'), 'cpu');
  assert.throws(() => parse('--device', 'tpu'), { message: "unknown device 'tpu' (cpu, cuda, cuda:N)" });
  const gpus = cudaDeviceCount();
  assert.throws(
    () => parse('--device', `cuda:${gpus}`),
    new RegExp(`^Error: device 'cuda:${gpus}': this libtorch( sees ${gpus} GPU| is a CPU build|, built for CUDA)`),
  );
  // No GPU: a CPU build says how to build in a CUDA one; a CUDA build says to look at the machine instead.
  if (gpus === 0)
    assert.throws(
      () => parse('--device', 'cuda'),
      cudaBuild()
        ? /^Error: device 'cuda': this libtorch, built for CUDA \d+\.\d+, sees no GPU: no NVIDIA driver here, or no device visible/
        : /^Error: device 'cuda': this libtorch is a CPU build; a CUDA libtorch is built in with LIBTORCH=/,
    );
  assert.throws(() => parse('--recipe', 'study', '--device', 'cpu'), /^Error: --device: the study recipe does not take this option/);
});

test('a study recipe keeps its own size and schedule unless --size, --epochs or --lr is given', () => {
  const own = parse('--recipe', 'study').options as StudyRecipe;
  assert.deepEqual([own.size, own.epochs, own.lr, own.keepSlices], [256, undefined, undefined, 0.4]);
  const given = parse('--recipe', 'study', '--size', '128', '--epochs', '5', '--lr', '0.002').options as StudyRecipe;
  assert.deepEqual([given.size, given.epochs, given.lr], [128, 5, 0.002]);
  // The linear head's passes are its full-batch steps.
  const linear = parse('--recipe', 'study-linear', '--epochs', '40').options as StudyRecipe;
  assert.deepEqual([linear.steps, linear.epochs, linear.head], [40, undefined, 'linear']);
  assert.equal((parse('--recipe', 'study-finetune', '--lr', '0.01').options as StudyRecipe).encoderLr, 1e-4, 'the encoder keeps its own rate');
});

test('findstroke train refuses an option the recipe does not take before reading any data', () => {
  const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  assert.throws(
    () => execFileSync(process.execPath, ['--import', 'tsx', cli, 'train', 'no-such-data', '--recipe', 'study', '--bf16'], { encoding: 'utf8', stdio: 'pipe' }),
    (error: { status: number; stderr: string }) =>
      error.status === 1 &&
      error.stderr.includes('findstroke: --bf16: the study recipe does not take this option (of the training options it takes --epochs, --lr)'),
  );
});
