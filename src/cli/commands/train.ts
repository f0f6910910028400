import type { Command } from 'commander';
import { fraction } from '../options.js';
import { recipeFrom, withRecipeChoice, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';

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
      const { recipe, options } = recipeFrom(o.recipe, o, command);
      const { out, validPct, groupBy, targetSensitivity, seed } = o;
      await recipe.train({ data, out, validPct, groupBy, targetSensitivity, seed }, options);
    });
}
