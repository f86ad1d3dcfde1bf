import { DefinitionError } from '../util/errors.js';
import { SHA256_RE } from '../util/hash.js';
import { isPlainRelative } from '../util/safe-paths.js';
import { rejectUnknownFields, requireObject } from '../util/fields.js';
import { validateCpe } from './cpe.js';
import { spdxProblem } from './license.js';
import { validatePatches } from './patches.js';
import { validateProvides } from './roles.js';
import { SOURCE_KINDS, expandSource } from './sources.js';
import type { Recipe, RecipeSpec, Source } from './types.js';

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;

/**
 * The version grammar: 1 to 4 dot-separated numbers (`1.35.0`, `7.0.15`, `6.03`, `20230210`), an
 * optional lowercase letter (`1.1.1w`), then optionally one suffix that starts with `-`, `+` or `~`
 * and a letter or digit (`1.0.0+git-20190125.36a4c85`, `20230210-5`, `2.0~rc1`). At most 64
 * characters. `1.2.3.4.5.6`, `v1.2`, `1.x`, `latest` are refused.
 */
const VERSION_RE = /^\d{1,9}(\.\d{1,9}){0,3}[a-z]?([-+~][0-9A-Za-z][0-9A-Za-z.+~-]*)?$/;
const MAX_VERSION_LENGTH = 64;
/** Leading path components a source may strip; real tarballs need 0 to 2. */
const MAX_STRIP = 8;

const RECIPE_FIELDS: Record<keyof RecipeSpec, true> = {
  name: true,
  version: true,
  license: true,
  licenseFiles: true,
  description: true,
  homepage: true,
  cpe: true,
  sources: true,
  dependencies: true,
  patches: true,
  provides: true,
  stampsProjectVersion: true,
  usesVariant: true,
  mounted: true,
  hostTools: true,
  settings: true,
  build: true,
};
const SOURCE_FIELDS: Record<keyof Source, true> = {
  file: true,
  sha256: true,
  locations: true,
  kind: true,
  extract: true,
  stripComponents: true,
};
const LOCATION_RE = /^(https?:\/\/\S+|debian:pool\/\S+)$/;

/**
 * Checks one recipe's fields and fills in defaults. Versions follow VERSION_RE (upstream versions
 * are not semver: `6.03`, `20230210`); the string is kept as written. Unknown
 * fields are refused (a misspelt optional field would silently take its default).
 */
export function validateRecipe(spec: unknown, file: string): Recipe {
  if (!spec || typeof spec !== 'object') {
    throw new DefinitionError(file, 'default export', 'must be a recipe: export default defineRecipe({...})');
  }
  const s = spec as Partial<RecipeSpec>;
  rejectUnknownFields(file, '', s, RECIPE_FIELDS);
  const str = (field: keyof RecipeSpec): string => {
    const v = s[field];
    if (typeof v !== 'string' || v.trim() === '')
      throw new DefinitionError(file, field, 'is required and must be a non-empty string');
    return v;
  };
  const name = str('name');
  if (!NAME_RE.test(name))
    throw new DefinitionError(file, 'name', `"${name}" must be lowercase letters, digits and dashes`);
  const version = str('version');
  if (version.length > MAX_VERSION_LENGTH || !VERSION_RE.test(version)) {
    const expected = 'expected 1 to 4 numbers like 1.2.3, optionally a suffix like -5 or +git-20190125.36a4c85';
    throw new DefinitionError(file, 'version', `"${version}" is not a version (${expected})`);
  }
  const licenseProblem = spdxProblem(str('license'));
  if (licenseProblem) {
    throw new DefinitionError(file, 'license', licenseProblem, 'See https://spdx.org/licenses/ for identifiers.');
  }
  str('description');
  if (typeof s.build !== 'function')
    throw new DefinitionError(file, 'build', 'must be a build function (e.g. make({...}))');

  if (!Array.isArray(s.sources ?? [])) throw new DefinitionError(file, 'sources', 'must be an array');
  const sources = (s.sources ?? []).map((src) => expandSource(src, version));
  const files = new Set<string>();
  sources.forEach((src, i) => {
    const at = `sources[${i}]`;
    requireObject(file, at, src);
    rejectUnknownFields(file, at, src, SOURCE_FIELDS);
    if (typeof src.file !== 'string' || !/^[A-Za-z0-9._+-]+$/.test(src.file) || src.file.startsWith('.')) {
      throw new DefinitionError(file, `${at}.file`, 'must be a plain file name');
    }
    const strip = src.stripComponents;
    if (strip !== undefined && !(Number.isInteger(strip) && strip >= 0 && strip <= MAX_STRIP)) {
      const problem = `${JSON.stringify(strip)} must be an integer from 0 to ${MAX_STRIP}`;
      throw new DefinitionError(file, `${at}.stripComponents`, problem);
    }
    if (src.extract !== undefined && typeof src.extract !== 'boolean') {
      throw new DefinitionError(file, `${at}.extract`, 'must be true or false');
    }
    if (files.has(src.file)) throw new DefinitionError(file, `${at}.file`, `"${src.file}" is listed twice`);
    files.add(src.file);
    if (src.kind !== undefined && !SOURCE_KINDS.includes(src.kind)) {
      throw new DefinitionError(file, `${at}.kind`, `"${String(src.kind)}" must be one of ${SOURCE_KINDS.join(', ')}`);
    }
    if (typeof src.sha256 !== 'string' || !SHA256_RE.test(src.sha256)) {
      throw new DefinitionError(
        file,
        `${at}.sha256`,
        `"${String(src.sha256)}" is not a sha256 (64 lowercase hex digits)`,
      );
    }
    if (!Array.isArray(src.locations) || src.locations.length === 0) {
      throw new DefinitionError(file, `${at}.locations`, 'needs at least one location');
    }
    src.locations.forEach((loc, j) => {
      if (typeof loc !== 'string' || !LOCATION_RE.test(loc)) {
        throw new DefinitionError(
          file,
          `${at}.locations[${j}]`,
          `"${String(loc)}" must be an http(s) URL or debian:pool/...`,
        );
      }
    });
  });

  const dependencies = s.dependencies ?? [];
  if (!Array.isArray(dependencies) || dependencies.some((d) => typeof d !== 'string')) {
    throw new DefinitionError(file, 'dependencies', 'must be an array of recipe names');
  }
  const licenseFiles = s.licenseFiles ?? [];
  if (!Array.isArray(licenseFiles)) {
    throw new DefinitionError(file, 'licenseFiles', 'must be an array of paths inside the source tree');
  }
  licenseFiles.forEach((f, i) => {
    if (typeof f !== 'string' || !isPlainRelative(f)) {
      const problem = `${JSON.stringify(f)} must be a relative path inside the source tree (no leading /, no ..)`;
      throw new DefinitionError(file, `licenseFiles[${i}]`, problem);
    }
  });
  const settings = s.settings;
  return {
    name,
    version,
    license: s.license!,
    licenseFiles,
    description: s.description!,
    homepage: s.homepage,
    cpe: validateCpe(s.cpe, version, file),
    sources,
    dependencies,
    patches: validatePatches(s.patches, file),
    provides: validateProvides(s.provides, file),
    hostTools: s.hostTools ?? [],
    stampsProjectVersion: validateFlag(s.stampsProjectVersion, 'stampsProjectVersion', file),
    mounted: validateFlag(s.mounted, 'mounted', file),
    // A build kind says so itself (it strips in release images); a hand-written build declares it.
    usesVariant: s.usesVariant ?? (s.build as { usesVariant?: boolean }).usesVariant === true,
    build: s.build,
    file,
    settings: (profile) => {
      const got = settings?.(profile) ?? {};
      return { files: got.files ?? [], values: got.values ?? {} };
    },
  };
}

/** A yes/no field: absent is false; anything but a boolean is refused (`mounted: 'yes'` is a typo). */
function validateFlag(value: unknown, field: string, file: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean')
    throw new DefinitionError(file, field, `must be true or false, not ${JSON.stringify(value)}`);
  return value;
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
        throw new DefinitionError(
          r.file,
          'dependencies',
          `unknown recipe "${dep}" (known: ${[...byName.keys()].sort().join(', ')})`,
        );
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
