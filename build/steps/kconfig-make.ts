import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildContext } from '../recipe/types.js';
import { applyFragments, verifyKconfig } from './kconfig.js';

export interface KconfigMakeOptions {
  /** The make target that writes the starting .config (`defconfig`, `allnoconfig`). */
  base: string;
  /** Repository-relative fragments applied in order. */
  fragments: string[];
  /** Options that depend on this build (paths); set after the fragments and not verified. */
  extraConfig?: Record<string, string>;
  makeArgs?: string[];
  /** Make arguments of the install step, e.g. ['install', 'CONFIG_PREFIX=...']. */
  install: string[];
}

/**
 * The generic build of a Kconfig-based package that is not the kernel (busybox, and the like):
 * base config, fragments, `oldconfig` fed with defaults, a check that no requested option was
 * dropped, then make and make install.
 */
export async function kconfigMake(ctx: BuildContext, opts: KconfigMakeOptions): Promise<void> {
  const args = opts.makeArgs ?? [];
  const fragments = opts.fragments.map((f) => join(ctx.repoDir, f));
  const config = join(ctx.srcDir, '.config');
  await ctx.run('make', [opts.base, ...args]);
  await applyFragments(config, fragments);
  const extra = Object.entries(opts.extraConfig ?? {})
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
  if (extra) {
    // Replaced in place: older kconfig (busybox's) refuses a symbol assigned twice.
    const extraFragment = join(ctx.workDir, 'build-specific.config');
    await writeFile(extraFragment, extra);
    await applyFragments(config, [extraFragment]);
  }
  // oldconfig asks about every new symbol; empty answers take the defaults.
  await ctx.run('make', ['oldconfig', ...args], { input: '\n'.repeat(5000) });
  await verifyKconfig(ctx.recipe.name, fragments, config);
  await ctx.run('make', [`-j${ctx.jobs}`, ...args]);
  await ctx.run('make', [...opts.install, ...args]);
}
