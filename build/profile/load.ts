import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compiledPath, repoDir } from '../paths.js';
import type { Recipe } from '../recipe/types.js';
import { DefinitionError, ZosError, errorMessage } from '../util/errors.js';
import { exists } from '../util/fs.js';
import { ARCHES, DEFAULT_ARCH } from '../arch.js';
import { ARTIFACTS, COMPRESSIONS, RUNMODES, type Profile, type ProfileSpec } from './types.js';

export async function loadProfile(name: string, recipes: ReadonlyMap<string, Recipe>): Promise<Profile> {
  const file = join(repoDir, 'config', `${name}.ts`);
  if (!/^[a-z0-9-]+$/.test(name) || !(await exists(file))) {
    throw new ZosError(`--profile ${name}: no such profile (expected ${file})`, 'Profiles live in config/<name>.ts; see `zos-build list`.');
  }
  let mod: { default?: ProfileSpec };
  try {
    mod = (await import(pathToFileURL(compiledPath(file)).href)) as { default?: ProfileSpec };
  } catch (err) {
    throw new DefinitionError(file, 'module', `cannot be loaded: ${errorMessage(err)}`);
  }
  const spec = mod.default;
  if (!spec || typeof spec !== 'object') throw new DefinitionError(file, 'default export', 'must be defineProfile({...})');
  if (spec.name !== name) throw new DefinitionError(file, 'name', `"${spec.name}" must match the file name "${name}"`);
  if (!['tinyconfig', 'defconfig'].includes(spec.kernel?.base)) throw new DefinitionError(file, 'kernel.base', 'must be tinyconfig or defconfig');
  for (const [i, frag] of (spec.kernel.fragments ?? []).entries()) {
    if (!(await exists(join(repoDir, frag)))) throw new DefinitionError(file, `kernel.fragments[${i}]`, `${frag} does not exist`);
  }
  for (const [i, pkg] of spec.packages.entries()) {
    if (!recipes.has(pkg)) throw new DefinitionError(file, `packages[${i}]`, `unknown recipe "${pkg}"`);
  }
  if (!COMPRESSIONS.includes(spec.compression)) throw new DefinitionError(file, 'compression', `must be one of ${COMPRESSIONS.join(', ')}`);
  if (!['release', 'debug'].includes(spec.variant)) throw new DefinitionError(file, 'variant', 'must be release or debug');
  if (!RUNMODES.includes(spec.netboot?.runmode)) throw new DefinitionError(file, 'netboot.runmode', `must be one of ${RUNMODES.join(', ')}`);
  for (const [i, a] of spec.artifacts.entries()) {
    if (!ARTIFACTS.includes(a)) throw new DefinitionError(file, `artifacts[${i}]`, `"${a}" is not one of ${ARTIFACTS.join(', ')}`);
  }
  const arch = spec.arch ?? DEFAULT_ARCH;
  if (!Object.hasOwn(ARCHES, arch)) throw new DefinitionError(file, 'arch', `"${arch}" is not one of ${Object.keys(ARCHES).join(', ')} (build/arch.ts)`);
  return { ...spec, arch, file };
}
