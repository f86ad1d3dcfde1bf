import type { BuildContext } from '../recipe/types.js';

/** Release images carry no symbols; debug images keep them for gdb and backtraces. */
export async function stripIfRelease(ctx: BuildContext, files: string[]): Promise<void> {
  if (ctx.profile.variant !== 'release' || files.length === 0) return;
  await ctx.run('strip', ['--strip-all', '--enable-deterministic-archives', ...files]);
}
