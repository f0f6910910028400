import type { Command } from 'commander';
import { trainRun } from '../../workflows/train-run.js';
import { studyTrainRun } from '../../workflows/study-train.js';
import { fraction } from '../options.js';
import { recipeFrom, studyRecipeFrom, withRecipeChoice, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';

interface TrainCliOptions extends RecipeCliOptions {
  recipe: string;
  validPct: number;
  groupBy: 'patient' | 'random' | 'auto';
  targetSensitivity: number;
  out: string;
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
    .action(async (data: string, o: TrainCliOptions) => {
      if (!['patient', 'random', 'auto'].includes(o.groupBy)) throw new Error(`--group-by must be patient, random or auto, got '${o.groupBy}'`);
      const recipe = recipeFrom(o);
      const study = studyRecipeFrom(o.recipe, command, recipe);
      if (study && o.groupBy === 'random') throw new Error('--group-by random: a study-level recipe learns from whole studies, so its split is by patient');
      if (study) await studyTrainRun({ data, out: o.out, recipe: study, validPct: o.validPct, seed: recipe.seed, targetSensitivity: o.targetSensitivity });
      else await trainRun({ ...recipe, data, out: o.out, validPct: o.validPct, splitBy: o.groupBy, targetSensitivity: o.targetSensitivity });
    });
}
