import type { Command } from 'commander';
import { crossval } from '../../workflows/crossval.js';
import { DEFAULT_STUDY_RECIPE, FINE_TUNED_STUDY_RECIPE, studyCrossval, type StudyRecipe } from '../../workflows/study-crossval.js';
import { positiveInt } from '../options.js';
import { recipeFrom, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';

interface CrossvalCliOptions extends RecipeCliOptions {
  recipe: string;
  folds: number;
  groupBy: string;
  out: string;
}

const STUDY_RECIPES: Record<string, StudyRecipe> = { study: DEFAULT_STUDY_RECIPE, 'study-finetune': FINE_TUNED_STUDY_RECIPE };

export function registerCrossval(program: Command): void {
  const command = program
    .command('crossval')
    .description('k-fold cross-validation grouped by patient: per-fold and mean +/- sd AUCs, out-of-fold predictions')
    .argument('<data>', 'dataset with patient ids (manifest.csv patient_id, DICOM PatientID, or pNNN_ file names)');
  withRecipeOptions(command)
    .option('--recipe <name>', 'slice: fine-tune on slices (the fastai reference); study: attention-MIL over each study\'s frozen-body slice embeddings; study-finetune: the same with the body\'s last stage fine-tuned with it (slower)', 'slice')
    .option('--folds <k>', 'number of folds', positiveInt, 5)
    .option('--group-by <how>', 'patient (the only honest choice for correlated slices)', 'patient')
    .option('--out <dir>', 'where to write crossval.json, oof.csv and fold logs', 'runs/crossval')
    .action(async (data: string, o: CrossvalCliOptions) => {
      if (o.groupBy !== 'patient') throw new Error(`--group-by ${o.groupBy}: cross-validation here groups by patient only (a random slice split leaks patients across folds)`);
      const recipe = recipeFrom(o);
      if (o.recipe === 'slice') {
        await crossval({ ...recipe, data, out: o.out, folds: o.folds });
      } else if (o.recipe in STUDY_RECIPES) {
        const study = STUDY_RECIPES[o.recipe];
        // The study recipe's own size unless --size was given.
        const size = command.getOptionValueSource('size') === 'default' ? study.size : recipe.size;
        await studyCrossval({ data, out: o.out, folds: o.folds, seed: recipe.seed, recipe: { ...study, arch: recipe.arch, pretrained: recipe.pretrained, size } });
      } else {
        throw new Error(`--recipe must be slice, study or study-finetune, got '${o.recipe}'`);
      }
    });
}
