/** The attention-MIL study recipe (`--recipe study`): attention-MIL over each study's frozen-body slice embeddings. */
import { studyRecipe } from './study-recipe.js';
import type { StudyRecipe } from './study.js';

/**
 * The study-level recipe (see docs/recipes.md): the frozen ImageNet ResNet-50's last stage at 256 px,
 * pooled, and a random 40% of each study's slices per training pass. As accurate on brain-stroke-ct's
 * folds as the study fine-tune recipe, within the spread between seeds, at a tenth of its cost.
 */
const DEFAULT_STUDY_RECIPE: StudyRecipe = { arch: 'resnet50', size: 256, stages: [4], keepSlices: 0.4 };

export const ATTENTION_MIL = studyRecipe('study', DEFAULT_STUDY_RECIPE);
