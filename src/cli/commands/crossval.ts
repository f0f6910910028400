import type { Command } from 'commander';
import { crossval } from '../../workflows/crossval.js';
import { repeatedRecipeCrossval } from '../../workflows/repeated-crossval.js';
import { positiveInt } from '../options.js';
import { recipeFrom, withRecipeChoice, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';

interface CrossvalCliOptions extends RecipeCliOptions {
  recipe: string;
  folds: number;
  repeats: number;
  groupBy: string;
  out: string;
}

export function registerCrossval(program: Command): void {
  const command = program
    .command('crossval')
    .description('k-fold cross-validation grouped by patient: per-fold and mean +/- sd AUCs, out-of-fold predictions')
    .argument('<data>', 'dataset with patient ids (manifest.csv patient_id, DICOM PatientID, or pNNN_ file names)');
  withRecipeChoice(withRecipeOptions(command))
    .option('--folds <k>', 'number of folds', positiveInt, 5)
    .option(
      '--repeats <n>',
      "partitions of the patients into folds, each cross-validated (seeds --seed, +1000, ...): the mean over them is steadier than one partition's, their spread says how far one can be trusted. A study recipe embeds the slices once for all",
      positiveInt,
      1,
    )
    .option('--group-by <how>', 'patient (the only honest choice for correlated slices)', 'patient')
    .option(
      '--out <dir>',
      "where to write crossval.json, oof.csv (slices), oof-patients.csv (patients by loss) and fold logs (with --repeats, each partition's in partition-N/, and the summary and the patients averaged over the partitions at the top)",
      'runs/crossval',
    )
    .action(async (data: string, o: CrossvalCliOptions) => {
      if (o.groupBy !== 'patient')
        throw new Error(`--group-by ${o.groupBy}: cross-validation here groups by patient only (a random slice split leaks patients across folds)`);
      const { recipe, options } = recipeFrom(o.recipe, o, command);
      if (o.repeats === 1) await crossval(recipe, { data, out: o.out, folds: o.folds, seed: o.seed, options });
      else await repeatedRecipeCrossval(recipe, { data, out: o.out, folds: o.folds, seed: o.seed, partitions: o.repeats, options });
    });
}
