import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importClosure, repoFileHash, repoFilesHashes } from '../graph/inputs.js';
import { STEP_META_DIR, type Step } from '../graph/types.js';
import { repoDir } from '../paths.js';
import type { Profile } from '../profile/types.js';
import { recipeStepId } from '../recipe/step.js';
import { initramfsFileName } from './compress.js';
import type { CpioEntry } from './cpio.js';
import { archFacts } from '../arch.js';
import { generatedFiles } from './generated.js';
import { layerSegment, packImage, type PackLayer } from './pack.js';
import { exists } from '../util/fs.js';
import type { HostToolVersions } from '../graph/inputs.js';
import type { Recipe } from '../recipe/types.js';
import { SQUASHFS_TOOL } from './mounted.js';

export const INITRAMFS_STEP = 'initramfs';
export const OVERLAY_DIR = 'rootfs-overlay';
/** Components of the image that are not recipes (the report names them so). */
export const OVERLAY_COMPONENT = 'rootfs-overlay';
export { GENERATED_COMPONENT } from './pack.js';

/** Paths a release image leaves out: headers and docs are for building, not for running. */
const RELEASE_EXCLUDES = [/^usr\/include(\/|$)/, /^usr\/share\/(doc|man|info)(\/|$)/];

/** Mount points and the directories every Linux root has, with their conventional modes. */
const SKELETON: ReadonlyArray<[string, number]> = [
  ['dev', 0o755],
  ['proc', 0o555],
  ['sys', 0o555],
  ['run', 0o755],
  ['tmp', 0o1777],
  ['root', 0o700],
  ['etc', 0o755],
  ['var', 0o755],
  ['var/lib', 0o755],
  ['var/log', 0o755],
  ['mnt', 0o755],
];

/** Compatibility links every Linux root has (FHS): tools still write pid files and netns under /var/run. */
const SKELETON_LINKS: ReadonlyArray<[string, string]> = [['var/run', '../run']];

async function makeSkeleton(dir: string): Promise<string> {
  for (const [path, mode] of SKELETON) {
    await mkdir(join(dir, path), { recursive: true });
    await chmod(join(dir, path), mode);
  }
  for (const [path, target] of SKELETON_LINKS) await symlink(target, join(dir, path));
  return dir;
}

export interface InitramfsStepOptions {
  profile: Profile;
  version: string;
  epoch: number;
  /**
   * The recipes whose staged rootfs make up the image, in order: the profile's packages with what they
   * depend on (a library's runtime files come with its users), and the kernel when it builds modules.
   */
  layers: string[];
}

/** The step that packs one layer recipe's rootfs into its own compressed archive (see pack.ts). */
export const layerStepId = (recipe: string): string => `layer:${recipe}`;

/** A layer step's archive, and the initramfs step's record of its pieces (for the report). */
const SEGMENT_FILE = (c: Profile['compression']): string => initramfsFileName(c).replace(/^initramfs/, 'layer');
export const SEGMENTS_INFO = `${STEP_META_DIR}/segments.json`;

/** A release image leaves headers and docs out, in every piece. */
function imageEntries(profile: Profile): (entries: CpioEntry[]) => CpioEntry[] {
  return (entries) =>
    profile.variant === 'release' ? entries.filter((e) => !RELEASE_EXCLUDES.some((re) => re.test(e.path))) : entries;
}

/**
 * One recipe's rootfs as a compressed archive of its own, cached with the recipe: an edit elsewhere
 * (overlay, another recipe, the version) reuses it as is. A mounted recipe's archive carries its
 * squashfs image and the links into it (mounted.ts).
 */
export function layerStep(
  recipe: Pick<Recipe, 'name' | 'mounted'>,
  profile: Profile,
  epoch: number,
  hostTools: HostToolVersions,
): Step {
  return {
    id: layerStepId(recipe.name),
    deps: [recipeStepId(recipe.name)],
    async inputs() {
      return {
        compression: profile.compression,
        // Only for RELEASE_EXCLUDES: a release image drops headers and docs.
        release: profile.variant === 'release',
        epoch,
        mounted: recipe.mounted,
        // The squashfs writer shapes a mounted layer's image.
        hostTools: recipe.mounted ? await hostTools.versions([SQUASHFS_TOOL.tool]) : {},
        // The code that packs it (cpio writer, compressors' flags, rootfs walk) and only that: editing
        // the generated files or this step's planning does not repack every layer.
        builder: await repoFilesHashes(await importClosure('build/image/pack.ts')),
      };
    },
    async run(ctx) {
      const rootfs = join(ctx.depOutputs.get(recipeStepId(recipe.name))!, 'rootfs');
      const written = await layerSegment({
        rootfs,
        select: imageEntries(profile),
        epoch,
        compression: profile.compression,
        outFile: join(ctx.outDir, SEGMENT_FILE(profile.compression)),
        mountedAs: recipe.mounted ? recipe.name : undefined,
        workDir: ctx.workDir,
        signal: ctx.signal,
      });
      ctx.log.note(written ? (recipe.mounted ? 'packed (mounted layer)' : 'packed') : 'no files: no archive');
    },
  };
}

/**
 * Packs the image (see pack.ts): checks the merged root filesystem (skeleton, layers in order,
 * rootfs-overlay/, generated files) for conflicts and missing libraries, then concatenates each
 * layer's cached archive, the overlay's, and a last one with the generated files.
 */
export function initramfsStep(opts: InitramfsStepOptions): Step {
  const { profile } = opts;
  const layerRecipes = opts.layers;
  return {
    id: INITRAMFS_STEP,
    deps: [...layerRecipes.map(recipeStepId), ...layerRecipes.map(layerStepId)],
    async inputs() {
      return {
        overlay: await repoFileHash(OVERLAY_DIR),
        layers: layerRecipes,
        compression: profile.compression,
        variant: profile.variant,
        version: opts.version,
        epoch: opts.epoch,
        // VARIANT_ID of /etc/os-release.
        profileName: profile.name,
        // The image code (cpio writer, compressors, generated files) shapes the bytes it writes.
        builder: await repoFileHash('build/image'),
      };
    },
    async run(ctx) {
      const layers: PackLayer[] = [];
      for (const r of layerRecipes) {
        const segment = join(ctx.depOutputs.get(layerStepId(r))!, SEGMENT_FILE(profile.compression));
        const rootfs = join(ctx.depOutputs.get(recipeStepId(r))!, 'rootfs');
        layers.push({ component: r, rootfs, segment: (await exists(segment)) ? segment : null });
      }
      layers.push({ component: OVERLAY_COMPONENT, rootfs: { dir: join(repoDir, OVERLAY_DIR), modes: 'git' } });
      const res = await packImage({
        base: [await makeSkeleton(join(ctx.workDir, 'skeleton'))],
        layers,
        generated: generatedFiles({
          profileName: profile.name,
          version: opts.version,
          buildId: ctx.fingerprint.slice(0, 12),
        }),
        select: imageEntries(profile),
        epoch: opts.epoch,
        compression: profile.compression,
        elfTriplet: archFacts(profile.arch).gnuTriplet,
        outFile: join(ctx.outDir, initramfsFileName(profile.compression)),
        workDir: join(ctx.workDir, 'pack'),
        signal: ctx.signal,
      });
      await mkdir(join(ctx.outDir, STEP_META_DIR), { recursive: true });
      await writeFile(join(ctx.outDir, SEGMENTS_INFO), `${JSON.stringify(res.segments, null, 2)}\n`);
      const bytes = res.segments.reduce((n, i) => n + i.bytes, 0);
      ctx.log.note(
        `${res.entries} entries in ${res.segments.length} archives, ${bytes} bytes (${profile.compression})`,
      );
    },
  };
}
