import type { Command } from 'commander';
import { trainRun } from '../../workflows/train-run.js';
import { studyTrainRun } from '../../workflows/study-train.js';
import { fraction, positiveInt, positiveNumber } from '../options.js';
import { distributedEnv, initProcessGroup } from '../../torch/distributed.js';
import { launchLocal } from '../launch.js';
import { recipeFrom, studyRecipeFrom, withRecipeChoice, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';

interface TrainCliOptions extends RecipeCliOptions {
  recipe: string;
  validPct: number;
  groupBy: 'patient' | 'random' | 'auto';
  targetSensitivity: number;
  out: string;
  nproc: number;
  distTimeout: number;
}

/** The command line without `--nproc`, for the ranks the launcher starts. */
function withoutNproc(argv: string[]): string[] {
  return argv.filter((arg, i) => !(arg === '--nproc' || arg.startsWith('--nproc=') || argv[i - 1] === '--nproc'));
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description("fine-tune a pretrained CNN on DATA (class folders or manifest.csv), as fastai's fine_tune, and export the model")
    .argument('<data>', 'dataset folder (class folders, or a manifest.csv inside) or a manifest CSV');
  withRecipeChoice(withRecipeOptions(command))
    .option('--valid-pct <p>', 'share of patients (or images) held out for validation', fraction, 0.2)
    .option('--group-by <how>', 'patient | random | auto (patient when ids are known)', 'auto')
    .option('--target-sensitivity <s>', 'triage thresholds aim for this sensitivity on validation data', fraction, 0.9)
    .option('--out <dir>', 'run folder: model, report, logs, metrics', 'runs/latest')
    .option(
      '--nproc <n>',
      'train data-parallel in N processes on this machine (c10d over Gloo; --bs is the global batch, --threads per process)',
      positiveInt,
      1,
    )
    .option('--dist-timeout <s>', 'data-parallel: how long a rank waits for the others (rendezvous and each collective) before failing', positiveNumber, 300)
    .action(async (data: string, o: TrainCliOptions) => {
      if (!['patient', 'random', 'auto'].includes(o.groupBy)) throw new Error(`--group-by must be patient, random or auto, got '${o.groupBy}'`);
      const recipe = recipeFrom(o);
      const study = studyRecipeFrom(o.recipe, command, recipe);
      if (study && o.groupBy === 'random') throw new Error('--group-by random: a study-level recipe learns from whole studies, so its split is by patient');
      const distributed = distributedEnv();
      if ((o.nproc > 1 || distributed) && study) throw new Error(`--recipe ${o.recipe}: the study-level recipes do not train data-parallel yet`);
      if (o.nproc > 1) {
        if (distributed) throw new Error('--nproc starts a data-parallel run of its own; this process is already a rank of one (WORLD_SIZE is set)');
        const args = [process.argv[1], ...withoutNproc(process.argv.slice(2))];
        process.exitCode = await launchLocal({ args, nproc: o.nproc, timeoutMs: o.distTimeout * 1000 });
        return;
      }
      if (study) {
        await studyTrainRun({ data, out: o.out, recipe: study, validPct: o.validPct, seed: recipe.seed, targetSensitivity: o.targetSensitivity });
        return;
      }
      const group = distributed ? await initProcessGroup({ timeoutMs: o.distTimeout * 1000 }) : undefined;
      try {
        await trainRun({ ...recipe, data, out: o.out, validPct: o.validPct, splitBy: o.groupBy, targetSensitivity: o.targetSensitivity, group });
      } catch (error) {
        group?.reportFailure(error instanceof Error ? error.message : String(error));
        throw error;
      }
    });
}
