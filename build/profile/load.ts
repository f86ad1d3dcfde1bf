import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compiledPath, repoDir } from '../paths.js';
import type { Recipe } from '../recipe/types.js';
import { DefinitionError, ZosError, errorMessage } from '../util/errors.js';
import { exists } from '../util/fs.js';
import type { Profile, ProfileSpec } from './types.js';
import { validateProfile } from './validate.js';

export async function loadProfile(name: string, recipes: ReadonlyMap<string, Recipe>): Promise<Profile> {
  const file = join(repoDir, 'config', `${name}.ts`);
  if (!/^[a-z0-9-]+$/.test(name) || !(await exists(file))) {
    throw new ZosError(
      `--profile ${name}: no such profile (expected ${file})`,
      'Profiles live in config/<name>.ts; see `zos-build list`.',
    );
  }
  let mod: { default?: ProfileSpec };
  try {
    mod = (await import(pathToFileURL(compiledPath(file)).href)) as { default?: ProfileSpec };
  } catch (err) {
    throw new DefinitionError(file, 'module', `cannot be loaded: ${errorMessage(err)}`);
  }
  return validateProfile(mod.default, file, name, recipes);
}
