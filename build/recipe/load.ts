import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compiledPath, repoDir } from '../paths.js';
import { DefinitionError, errorMessage } from '../util/errors.js';
import { exists } from '../util/fs.js';
import type { Recipe } from './types.js';
import { validateRecipe, validateRecipeSet } from './validate.js';

/** Imports one compiled recipe module and validates it, naming its TypeScript file in errors. */
export async function loadRecipeFile(file: string): Promise<Recipe> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(compiledPath(file)).href)) as { default?: unknown };
  } catch (err) {
    throw new DefinitionError(
      file,
      'module',
      `cannot be loaded: ${errorMessage(err)}`,
      'Run `npm run compile` and fix the errors it reports.',
    );
  }
  return validateRecipe(mod.default, file);
}

/** Every `recipes/<name>/recipe.ts`, validated as a set (names, dependencies, cycles). */
export async function loadRecipes(recipesDir = join(repoDir, 'recipes')): Promise<Map<string, Recipe>> {
  const dirs = (await readdir(recipesDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  // All at once (a no-op build waits for the slowest import, not their sum), kept in folder order.
  const loaded = await Promise.all(
    dirs.map(async (dir) => {
      const file = join(recipesDir, dir, 'recipe.ts');
      if (!(await exists(file))) return undefined;
      const recipe = await loadRecipeFile(file);
      if (recipe.name !== dir)
        throw new DefinitionError(file, 'name', `"${recipe.name}" must match its folder name "${dir}"`);
      return recipe;
    }),
  );
  return validateRecipeSet(loaded.filter((r): r is Recipe => r !== undefined));
}
