import semver from 'semver';
import { DefinitionError } from '../util/errors.js';
import { SHA256_RE } from '../util/hash.js';
import { validatePatches } from './patches.js';
import { validateProvides } from './roles.js';
import { SOURCE_KINDS, expandSource } from './sources.js';
import type { Recipe, RecipeSpec } from './types.js';

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const LOCATION_RE = /^(https?:\/\/\S+|debian:pool\/\S+)$/;

/**
 * Checks one recipe's fields and fills in defaults. Versions must be semver-comparable once
 * coerced (`1.35.0`, `6.1.176`, `7.0.15`); the recipe's own version string is kept as written.
 */
export function validateRecipe(spec: unknown, file: string): Recipe {
  if (!spec || typeof spec !== 'object') {
    throw new DefinitionError(file, 'default export', 'must be a recipe: export default defineRecipe({...})');
  }
  const s = spec as Partial<RecipeSpec>;
  const str = (field: keyof RecipeSpec): string => {
    const v = s[field];
    if (typeof v !== 'string' || v.trim() === '') throw new DefinitionError(file, field, 'is required and must be a non-empty string');
    return v;
  };
  const name = str('name');
  if (!NAME_RE.test(name)) throw new DefinitionError(file, 'name', `"${name}" must be lowercase letters, digits and dashes`);
  const version = str('version');
  if (!semver.valid(semver.coerce(version, { loose: false })) || !/^\d+(\.\d+)*([-+~][0-9A-Za-z.+~-]*)?$/.test(version)) {
    throw new DefinitionError(file, 'version', `"${version}" is not a version (expected something like 1.2.3)`);
  }
  str('license');
  str('description');
  if (typeof s.build !== 'function') throw new DefinitionError(file, 'build', 'must be a build function (e.g. make({...}))');

  if (!Array.isArray(s.sources ?? [])) throw new DefinitionError(file, 'sources', 'must be an array');
  const sources = (s.sources ?? []).map((src) => expandSource(src, version));
  const files = new Set<string>();
  sources.forEach((src, i) => {
    const at = `sources[${i}]`;
    if (!src || typeof src.file !== 'string' || !/^[A-Za-z0-9._+-]+$/.test(src.file)) {
      throw new DefinitionError(file, `${at}.file`, 'must be a plain file name');
    }
    if (files.has(src.file)) throw new DefinitionError(file, `${at}.file`, `"${src.file}" is listed twice`);
    files.add(src.file);
    if (src.kind !== undefined && !SOURCE_KINDS.includes(src.kind)) {
      throw new DefinitionError(file, `${at}.kind`, `"${String(src.kind)}" must be one of ${SOURCE_KINDS.join(', ')}`);
    }
    if (typeof src.sha256 !== 'string' || !SHA256_RE.test(src.sha256)) {
      throw new DefinitionError(file, `${at}.sha256`, `"${String(src.sha256)}" is not a sha256 (64 lowercase hex digits)`);
    }
    if (!Array.isArray(src.locations) || src.locations.length === 0) {
      throw new DefinitionError(file, `${at}.locations`, 'needs at least one location');
    }
    src.locations.forEach((loc, j) => {
      if (typeof loc !== 'string' || !LOCATION_RE.test(loc)) {
        throw new DefinitionError(file, `${at}.locations[${j}]`, `"${String(loc)}" must be an http(s) URL or debian:pool/...`);
      }
    });
  });

  const dependencies = s.dependencies ?? [];
  if (!Array.isArray(dependencies) || dependencies.some((d) => typeof d !== 'string')) {
    throw new DefinitionError(file, 'dependencies', 'must be an array of recipe names');
  }
  const settings = s.settings;
  return {
    name,
    version,
    license: s.license!,
    licenseFiles: s.licenseFiles ?? [],
    description: s.description!,
    homepage: s.homepage,
    sources,
    dependencies,
    patches: validatePatches(s.patches, file),
    provides: validateProvides(s.provides, file),
    hostTools: s.hostTools ?? [],
    stampsProjectVersion: s.stampsProjectVersion ?? false,
    build: s.build,
    file,
    settings: (profile) => {
      const got = settings?.(profile) ?? {};
      return { files: got.files ?? [], values: got.values ?? {} };
    },
  };
}

/** Rejects duplicate names and unknown dependencies, then cycles (printing the cycle). */
export function validateRecipeSet(recipes: readonly Recipe[]): Map<string, Recipe> {
  const byName = new Map<string, Recipe>();
  for (const r of recipes) {
    const prev = byName.get(r.name);
    if (prev) throw new DefinitionError(r.file, 'name', `"${r.name}" is already defined by ${prev.file}`);
    byName.set(r.name, r);
  }
  for (const r of recipes) {
    for (const dep of r.dependencies) {
      if (!byName.has(dep)) {
        throw new DefinitionError(r.file, 'dependencies', `unknown recipe "${dep}" (known: ${[...byName.keys()].sort().join(', ')})`);
      }
    }
  }
  const cycle = findCycle(new Map(recipes.map((r) => [r.name, r.dependencies])));
  if (cycle) {
    const first = byName.get(cycle[0]!)!;
    throw new DefinitionError(first.file, 'dependencies', `dependency cycle: ${cycle.join(' -> ')}`);
  }
  return byName;
}

/** Returns one cycle as a path that starts and ends with the same node, or undefined. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}
