import { relative } from 'node:path';
import type { BuildContext } from '../recipe/types.js';
import { ZosError } from '../util/errors.js';
import { notRegularFileInside } from '../util/safe-paths.js';

/**
 * Release images carry no symbols; debug images keep them for gdb and backtraces. Only regular files
 * inside the step's own rootfs output are stripped: strip rewrites the file it is given, and a staged
 * Debian package holds absolute symlinks (`lib64/ld-linux-x86-64.so.2 -> /lib/...`) that would make it
 * rewrite the build host's own loader.
 */
export async function stripIfRelease(ctx: BuildContext, files: string[]): Promise<void> {
  if (ctx.profile.variant !== 'release' || files.length === 0) return;
  for (const file of files) {
    const problem = await notRegularFileInside(ctx.out.rootfs, relative(ctx.out.rootfs, file));
    if (problem) throw new ZosError(`recipe ${ctx.recipe.name}: will not strip ${file}: it ${problem}`);
  }
  await ctx.run('strip', ['--strip-all', '--enable-deterministic-archives', ...files]);
}
