import { chmod, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { repoFileHash } from '../graph/inputs.js';
import type { Step } from '../graph/types.js';
import { repoDir } from '../paths.js';
import type { Profile } from '../profile/types.js';
import { recipeStepId } from '../recipe/step.js';
import { buildInitramfs, initramfsFileName } from './compress.js';
import { archFacts } from '../arch.js';
import { checkImageElves } from './elf.js';
import { generatedFiles } from './generated.js';
import { collectRootfs } from './rootfs.js';

export const INITRAMFS_STEP = 'initramfs';
export const OVERLAY_DIR = 'rootfs-overlay';

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

/**
 * Packs the image's root filesystem: the staged rootfs of each layer recipe (see `layers`), then rootfs-overlay/, then generated files, into one compressed newc cpio.
 */
export function initramfsStep(opts: InitramfsStepOptions): Step {
  const { profile } = opts;
  const layerRecipes = opts.layers;
  return {
    id: INITRAMFS_STEP,
    deps: layerRecipes.map(recipeStepId),
    async inputs() {
      return {
        overlay: await repoFileHash(OVERLAY_DIR),
        layers: layerRecipes,
        compression: profile.compression,
        variant: profile.variant,
        version: opts.version,
        epoch: opts.epoch,
        agent: profile.agent,
        // runmode and farm id go into the agent's config file.
        node: { runmode: profile.netboot.runmode, farmId: profile.netboot.farmId },
        // The image code (cpio writer, compressors, generated files) shapes the bytes it writes.
        builder: await repoFileHash('build/image'),
      };
    },
    async run(ctx) {
      const skeleton = await makeSkeleton(join(ctx.workDir, 'skeleton'));
      const layers = [
        skeleton,
        ...layerRecipes.map((r) => join(ctx.depOutputs.get(recipeStepId(r))!, 'rootfs')),
        { dir: join(repoDir, OVERLAY_DIR), modes: 'git' as const },
      ];
      const generated = generatedFiles({ profile, version: opts.version, buildId: ctx.fingerprint.slice(0, 12) });
      let entries = await collectRootfs(layers, generated);
      if (profile.variant === 'release')
        entries = entries.filter((e) => !RELEASE_EXCLUDES.some((re) => re.test(e.path)));
      // Every ELF must find its interpreter and libraries inside the image, or the node fails at run time.
      await checkImageElves(entries, archFacts(profile.arch).gnuTriplet);
      const file = join(ctx.outDir, initramfsFileName(profile.compression));
      const res = await buildInitramfs({ entries, epoch: opts.epoch, compression: profile.compression, outFile: file });
      ctx.log.note(`${entries.length} entries, ${res.bytes} bytes compressed (${profile.compression})`);
    },
  };
}
