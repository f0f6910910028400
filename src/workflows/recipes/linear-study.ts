/**
 * The linear study recipe (`--recipe study-linear`): a linear classifier of each slice's frozen-body
 * embedding (of the slice and of its stroke-window view), averaged over the study.
 */
import { studyRecipe } from './study-recipe.js';
import type { StudyRecipe } from './study.js';

/**
 * A stroke window on brain-windowed slices: grey levels 70..180 of 255 stretched to the full range. Of a
 * brain window (width 80, level 40 HU) that is about 22..56 HU: the narrow window radiologists use to
 * see early ischaemic hypodensity. A DICOM slice's brain/subdural/bone channels are each narrowed alike
 * (its brain channel to the same stroke window).
 */
const STROKE_WINDOW_VIEW: readonly [number, number] = [70 / 255, 180 / 255];

/**
 * The linear study recipe: the frozen ImageNet ResNet-50's last stage at 256 px, average-pooled, of the
 * slice and of its stroke-window view (2 x 2,048 numbers per slice), one L2-regularised linear classifier
 * of the slices, a study's probabilities the mean of its slices'. Nothing but the linear layer is
 * fitted, so a fold takes seconds after the embedding pass.
 */
export const LINEAR_STUDY_RECIPE: StudyRecipe = {
  arch: 'resnet50',
  size: 256,
  stages: [4],
  pooling: 'avg',
  stretchedViews: [STROKE_WINDOW_VIEW],
  head: 'linear',
  l2: 0.01,
};

export const LINEAR_STUDY = studyRecipe('study-linear', LINEAR_STUDY_RECIPE);
