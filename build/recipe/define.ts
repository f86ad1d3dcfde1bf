import type { RecipeSpec } from './types.js';

/**
 * Declares a recipe. A recipe file default-exports the result; the loader validates it and fills in
 * defaults, so this stays an identity function that gives recipe authors type checking.
 */
export function defineRecipe(spec: RecipeSpec): RecipeSpec {
  return spec;
}
