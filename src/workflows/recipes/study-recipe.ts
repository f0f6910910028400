/** A study recipe (attention MIL, study fine-tune, linear study) as a {@link Recipe}: its constants, trained and run the study way. */
import { studyTrainRun } from '../study-train.js';
import type { Recipe } from './recipe.js';
import { STUDY_TAKES, studyFoldTrainer, studyOptions, type StudyRecipe } from './study.js';

export function studyRecipe(name: string, constants: StudyRecipe): Recipe<StudyRecipe> {
  return {
    name,
    takes: STUDY_TAKES,
    dataParallel: false,
    resumes: false,
    options: (settings) => studyOptions(constants, settings),
    prepare: (dataset, recipe, log) => studyFoldTrainer(dataset, recipe, log),
    train: (s, recipe) => {
      if (s.groupBy === 'random') throw new Error('--group-by random: a study-level recipe learns from whole studies, so its split is by patient');
      return studyTrainRun({ ...s, recipe });
    },
  };
}
