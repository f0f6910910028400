/** The study fine-tune recipe (`--recipe study-finetune`): attention MIL with the body's last stage fine-tuned with it (slower). */
import { studyRecipe } from './study-recipe.js';
import type { StudyRecipe } from './study.js';

/**
 * The study-level recipe with the body's last stage fine-tuned: ImageNet ResNet-50 at 256 px, its first
 * three stages frozen (their maps computed once), its last stage trained with the attention-MIL head,
 * 4 studies per step and 8 random slices of each, every slice also scored against its study's label.
 */
const FINE_TUNED_STUDY_RECIPE: StudyRecipe = {
  arch: 'resnet50',
  size: 256,
  stages: [4],
  trainStages: 1,
  epochs: 8,
  bagsPerStep: 4,
  keepSlices: 1,
  maxSlices: 8,
  lr: 1e-3,
  encoderLr: 1e-4,
  weightDecay: 0.01,
  sliceLoss: 0.5,
};

export const STUDY_FINE_TUNE = studyRecipe('study-finetune', FINE_TUNED_STUDY_RECIPE);
