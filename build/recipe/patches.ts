import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { repoRelative } from '../paths.js';
import { DefinitionError } from '../util/errors.js';
import type { Recipe } from './types.js';

const PATCH_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Checks `patches`: plain file names of files that exist in the recipe's folder. */
export function validatePatches(patches: unknown, file: string): string[] {
  const list = patches ?? [];
  if (!Array.isArray(list))
    throw new DefinitionError(file, 'patches', 'must be an array of file names in the recipe folder');
  const seen = new Set<string>();
  list.forEach((p: unknown, i) => {
    if (typeof p !== 'string' || !PATCH_NAME_RE.test(p)) {
      throw new DefinitionError(
        file,
        `patches[${i}]`,
        `${JSON.stringify(p)} must be a plain file name in ${dirname(file)}`,
      );
    }
    if (seen.has(p)) throw new DefinitionError(file, `patches[${i}]`, `"${p}" is listed twice`);
    seen.add(p);
    if (!existsSync(join(dirname(file), p)))
      throw new DefinitionError(file, `patches[${i}]`, `${join(dirname(file), p)} does not exist`);
  });
  return list as string[];
}

/** Repository-relative paths of a recipe's patches, in order (their bytes enter the fingerprint). */
export function patchFiles(recipe: Recipe): string[] {
  return recipe.patches.map((p) => repoRelative(join(dirname(recipe.file), p)));
}

/** Applies the recipe's patches to the extracted tree, in order; a patch that does not apply fails the build. */
export async function applyPatches(
  recipe: Recipe,
  srcDir: string,
  run: (cmd: string, args: string[]) => Promise<void>,
): Promise<void> {
  for (const p of recipe.patches) {
    await run('patch', [
      '-p1',
      '--forward',
      '--batch',
      '--no-backup-if-mismatch',
      '-i',
      join(dirname(recipe.file), p),
      '-d',
      srcDir,
    ]);
  }
}
