import type { Command } from 'commander';
import { crossval } from '../../workflows/crossval.js';
import { studyCrossval } from '../../workflows/study-crossval.js';
import { positiveInt } from '../options.js';
import { recipeFrom, studyRecipeFrom, withRecipeChoice, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';

interface CrossvalCliOptions extends RecipeCliOptions {
  recipe: string;
  folds: number;
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
    .option('--group-by <how>', 'patient (the only honest choice for correlated slices)', 'patient')
    .option('--out <dir>', 'where to write crossval.json, oof.csv (slices), oof-patients.csv (patients by loss) and fold logs', 'runs/crossval')
    .action(async (data: string, o: CrossvalCliOptions) => {
      if (o.groupBy !== 'patient') throw new Error(`--group-by ${o.groupBy}: cross-validation here groups by patient only (a random slice split leaks patients across folds)`);
      const recipe = recipeFrom(o);
      const study = studyRecipeFrom(o.recipe, command, recipe);
      if (study) await studyCrossval({ data, out: o.out, folds: o.folds, seed: recipe.seed, recipe: study });
      else await crossval({ ...recipe, data, out: o.out, folds: o.folds });
    });
}
