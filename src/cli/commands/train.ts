import type { Command } from 'commander';
import { fraction, positiveInt, positiveNumber } from '../options.js';
import { distributedEnv, initProcessGroup } from '../../torch/distributed.js';
import { launchLocal } from '../launch.js';
import { recipeFrom, withRecipeChoice, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';

interface TrainCliOptions extends RecipeCliOptions {
  recipe: string;
  validPct: number;
  groupBy: 'patient' | 'random' | 'auto';
  targetSensitivity: number;
  out: string;
  nproc: number;
  distTimeout: number;
  syncBn?: boolean;
  resume?: boolean;
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
      'train data-parallel in N processes on this machine (c10d over Gloo on CPUs, NCCL on GPUs, one GPU a process; --bs is the global batch, --threads per process)',
      positiveInt,
      1,
    )
    .option('--resume', 'continue the run in --out after its last completed epoch (started with the same options) from the checkpoint it wrote')
    .option('--dist-timeout <s>', 'data-parallel: how long a rank waits for the others (rendezvous and each collective) before failing', positiveNumber, 300)
    .option('--sync-bn', "data-parallel: batch norm normalises with the whole global batch's statistics (PyTorch's SyncBatchNorm), not each process's share")
    .action(async (data: string, o: TrainCliOptions) => {
      if (!['patient', 'random', 'auto'].includes(o.groupBy)) throw new Error(`--group-by must be patient, random or auto, got '${o.groupBy}'`);
      const { recipe, options, settings } = recipeFrom(o.recipe, o, command);
      const { out, validPct, groupBy, targetSensitivity, seed } = o;
      const distributed = distributedEnv();
      if (o.syncBn && o.nproc === 1 && !distributed)
        throw new Error('--sync-bn synchronises batch norm between data-parallel processes: give --nproc 2 or more (or run as a rank, WORLD_SIZE set)');
      if ((o.nproc > 1 || distributed) && !recipe.dataParallel) throw new Error(`--recipe ${o.recipe}: this recipe does not train data-parallel yet`);
      if (o.resume && !recipe.resumes) throw new Error(`--recipe ${o.recipe}: this recipe does not resume runs yet`);
      if (o.nproc > 1) {
        if (distributed) throw new Error('--nproc starts a data-parallel run of its own; this process is already a rank of one (WORLD_SIZE is set)');
        const args = [process.argv[1], ...withoutNproc(process.argv.slice(2))];
        process.exitCode = await launchLocal({ args, nproc: o.nproc, timeoutMs: o.distTimeout * 1000 });
        return;
      }
      const group = distributed ? await initProcessGroup({ timeoutMs: o.distTimeout * 1000, device: settings.device }) : undefined;
      try {
        await recipe.train({ data, out, validPct, groupBy, targetSensitivity, seed, group, syncBatchNorm: o.syncBn, resume: o.resume }, options);
      } catch (error) {
        group?.reportFailure(error instanceof Error ? error.message : String(error));
        throw error;
      }
    });
}
