import { mkdir, copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ZosError } from '../util/errors.js';
import { notRegularFileInside } from '../util/safe-paths.js';
import type { SourceStore } from '../cache/source-store.js';
import type { CompilerWrappers } from '../compile/wrappers.js';
import { fetchSource, type FetchOptions } from '../fetch/fetch-source.js';
import type { HostToolVersions } from '../graph/inputs.js';
import { importClosure, repoFilesHashes } from '../graph/inputs.js';
import type { Step, StepRunContext } from '../graph/types.js';
import { repoDir, repoRelative } from '../paths.js';
import type { Profile } from '../profile/types.js';
import { archFacts } from '../arch.js';
import { extractArchive } from '../steps/extract.js';
import type { KindBuild } from '../steps/kind.js';
import { mergeSysroots } from '../steps/sysroot.js';
import { applyPatches, patchFiles } from './patches.js';
import { sourceKind } from './sources.js';
import type { BuildContext, DependencyOutput, Recipe } from './types.js';

/** What every recipe step shares: the build's identity and where sources come from. */
export interface BuildEnv {
  profile: Profile;
  version: string;
  /** SOURCE_DATE_EPOCH: every timestamp that reaches an output comes from it. */
  epoch: number;
  sources: SourceStore;
  fetch: Omit<FetchOptions, 'note'>;
  hostTools: HostToolVersions;
  /** ccache / distcc in front of the compilers (set by `build`); never part of a fingerprint. */
  compilers?: CompilerWrappers;
}

export const recipeStepId = (name: string): string => `recipe:${name}`;

/** Environment that keeps compilers and build systems from stamping time, user, host or locale. */
export function reproducibleEnv(epoch: number): Record<string, string> {
  return {
    SOURCE_DATE_EPOCH: String(epoch),
    KBUILD_BUILD_TIMESTAMP: new Date(epoch * 1000).toUTCString(),
    KBUILD_BUILD_USER: 'zos',
    KBUILD_BUILD_HOST: 'zos-build',
    LC_ALL: 'C',
    TZ: 'UTC',
    ZERO_AR_DATE: '1',
  };
}

/**
 * Copies the recipe's license texts next to its output, so releases can ship them (legal-info)
 * without unpacking sources again. A listed file that is missing fails the build: a release
 * without its licenses is not shippable. Only regular files inside the tree are copied, never
 * through a symlink: the tree comes from an upstream tarball, and what lands here is published.
 */
async function collectLicenses(recipe: Recipe, from: string, to: string): Promise<void> {
  for (const file of recipe.licenseFiles) {
    const src = join(from, file);
    const problem = await notRegularFileInside(from, file);
    if (problem) {
      const hint = `Fix licenseFiles in ${recipe.file}.`;
      throw new ZosError(`recipe ${recipe.name}: licenseFiles entry ${file} ${problem}`, hint);
    }
    await mkdir(dirname(join(to, file)), { recursive: true });
    await copyFile(src, join(to, file));
  }
}

/** The generic part of every recipe build (fetch, extract, licenses); editing it rebuilds recipes. */
const BUILDER_CODE = [
  'build/recipe/step.ts',
  'build/recipe/sources.ts',
  'build/recipe/patches.ts',
  'build/steps/extract.ts',
  'build/steps/sysroot.ts',
  'build/arch.ts',
];

/** 1980-01-01, the epoch of components that do not carry the project's version (as Nix does). */
export const FIXED_EPOCH = 315532800;

/** The version and SOURCE_DATE_EPOCH a recipe's build (and its files' timestamps in the image) carry. */
export function stampOf(recipe: Recipe, env: BuildEnv): { version: string; epoch: number } {
  return recipe.stampsProjectVersion ? { version: env.version, epoch: env.epoch } : { version: '', epoch: FIXED_EPOCH };
}

/**
 * The profile as a recipe's build sees it: without `usesVariant` the variant is not in its
 * fingerprint, so reading it is an error rather than a cache entry that silently ignores it.
 */
export function profileForRecipe(recipe: Recipe, profile: Profile): Profile {
  if (recipe.usesVariant) return profile;
  const guarded = { ...profile };
  Object.defineProperty(guarded, 'variant', {
    enumerable: true,
    get(): never {
      throw new ZosError(
        `recipe ${recipe.name} reads the build variant but does not declare it`,
        `Add \`usesVariant: true\` to ${recipe.file}, so the variant enters its fingerprint.`,
      );
    },
  });
  return guarded;
}

export function dependencyOutput(dir: string): DependencyOutput {
  return { rootfs: join(dir, 'rootfs'), export: join(dir, 'export'), boot: join(dir, 'boot') };
}

/** Host tools the generic step itself runs for this recipe (patch, dpkg-deb). */
function genericTools(recipe: Recipe): string[] {
  const kindTools = (recipe.build as Partial<KindBuild>).hostTools ?? [];
  return [
    ...kindTools,
    ...(recipe.patches.length ? ['patch'] : []),
    ...(recipe.sources.some((s) => sourceKind(s) === 'deb') ? ['dpkg-deb'] : []),
  ];
}

/**
 * Turns a recipe into a build step. The generic part lives here (fetch, verify, extract, patch, the
 * merged sysroot, lay out rootfs/export/boot); the recipe's `build` function does only what is
 * specific to it. `closure` is every recipe it depends on, directly or not, dependencies first:
 * their outputs are all visible to the build (the sysroot is their merge).
 */
export function recipeStep(recipe: Recipe, env: BuildEnv, closure: readonly string[] = recipe.dependencies): Step {
  const settings = recipe.settings(env.profile);
  const arch = archFacts(env.profile.arch);
  return {
    id: recipeStepId(recipe.name),
    deps: closure.map(recipeStepId),
    async inputs() {
      return {
        // The code that builds it: the generic recipe step, the recipe module and what it imports.
        builder: await repoFilesHashes([...BUILDER_CODE, ...(await importClosure(repoRelative(recipe.file)))]),
        version: recipe.version,
        sources: recipe.sources.map((s) => ({
          file: s.file,
          sha256: s.sha256,
          strip: s.stripComponents ?? 1,
          kind: sourceKind(s),
        })),
        patches: Object.values(await repoFilesHashes(patchFiles(recipe))),
        files: await repoFilesHashes(settings.files),
        arch: arch.name,
        values: settings.values,
        variant: recipe.usesVariant ? env.profile.variant : undefined,
        stamp: stampOf(recipe, env),
        hostTools: await env.hostTools.versions([...recipe.hostTools, ...genericTools(recipe)]),
      };
    },
    async run(ctx: StepRunContext) {
      // The first archive becomes the source tree; further archives land in extra/<file>/, .debs
      // are unpacked into deb/, and plain files are copied into the tree as they are.
      const srcDir = join(ctx.workDir, 'src');
      let extracted = 0;
      const plainFiles: Array<[string, string]> = [];
      const debs: string[] = [];
      for (const source of recipe.sources) {
        const cached = await fetchSource(recipe.name, source, env.sources, {
          ...env.fetch,
          signal: ctx.signal,
          note: (l) => ctx.log.note(l),
        });
        const kind = sourceKind(source);
        if (kind === 'archive') {
          ctx.log.note(`extract ${source.file}`);
          const dest = extracted++ === 0 ? srcDir : join(srcDir, 'extra', source.file);
          await extractArchive(cached, dest, {
            stripComponents: source.stripComponents ?? 1,
            name: source.file,
            signal: ctx.signal,
          });
        } else if (kind === 'deb') {
          debs.push(cached);
        } else {
          plainFiles.push([cached, source.file]);
        }
      }
      await mkdir(srcDir, { recursive: true });
      for (const [cached, file] of plainFiles) await copyFile(cached, join(srcDir, file));
      // dpkg-deb checks the package's format and never writes outside the directory it is given.
      for (const deb of debs) await ctx.log.run('dpkg-deb', ['-x', deb, join(srcDir, 'deb')]);
      await applyPatches(recipe, srcDir, (cmd, args) => ctx.log.run(cmd, args, { cwd: srcDir }));
      const depDirs = closure.map((d) => ctx.depOutputs.get(recipeStepId(d))!);
      const sysroot = join(ctx.workDir, 'sysroot');
      await mergeSysroots(
        depDirs.map((d) => dependencyOutput(d).export),
        sysroot,
      );
      const out = dependencyOutput(ctx.outDir);
      await Promise.all([out.rootfs, out.export, out.boot].map((d) => mkdir(d, { recursive: true })));
      const stamp = stampOf(recipe, env);
      const buildEnv = { ...reproducibleEnv(stamp.epoch), ...env.compilers?.env(ctx.workDir) };
      const bctx: BuildContext = {
        recipe,
        profile: profileForRecipe(recipe, env.profile),
        repoDir,
        srcDir,
        workDir: ctx.workDir,
        out,
        deps: Object.fromEntries(closure.map((d, i) => [d, dependencyOutput(depDirs[i]!)])),
        sysroot,
        arch,
        jobs: ctx.jobs,
        env: buildEnv,
        version: stamp.version,
        values: settings.values,
        log: ctx.log,
        run: (cmd, args, opts = {}) =>
          ctx.log.run(cmd, args, { cwd: opts.cwd ?? srcDir, env: { ...buildEnv, ...opts.env }, input: opts.input }),
      };
      await recipe.build(bctx);
      const compileStats = await env.compilers?.summary(ctx.workDir);
      if (compileStats) ctx.log.note(`# ${compileStats}`);
      await collectLicenses(recipe, recipe.sources.length ? srcDir : repoDir, join(ctx.outDir, 'legal', recipe.name));
    },
  };
}
