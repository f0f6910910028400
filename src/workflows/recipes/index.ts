/** The recipes `--recipe` names, by name. */
import { ATTENTION_MIL } from './attention-mil.js';
import { FINE_TUNE } from './fine-tune.js';
import { LINEAR_STUDY } from './linear-study.js';
import type { Recipe } from './recipe.js';
import { STUDY_FINE_TUNE } from './study-fine-tune.js';

export const RECIPES: readonly Recipe[] = [FINE_TUNE, ATTENTION_MIL, STUDY_FINE_TUNE, LINEAR_STUDY] as Recipe[];

/**
 * The recipe called `name`.
 * @throws Error for a recipe name findstroke does not have.
 */
export function recipeNamed(name: string): Recipe {
  const recipe = RECIPES.find((r) => r.name === name);
  if (!recipe) throw new Error(`--recipe must be ${RECIPES.map((r) => r.name).join(', ')}, got '${name}'`);
  return recipe;
}
