import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { defineKind, type KindBuild } from './kind.js';

export interface DebInstallOptions {
  /** Globs (relative to the image root) of the packages' files the image keeps. */
  keep: string[];
  /** Globs left out, applied after keep. */
  drop?: string[];
}

/**
 * Debian binary packages as a component: the recipe's `kind: 'deb'` sources are unpacked by the
 * generic step into `<src>/deb/` (dpkg-deb -x); this kind takes the kept files from there into the
 * image, through the same keep/drop split as every other kind. Nothing is compiled; the image's ELF
 * check proves the packages' library closure is complete (see docs/userland.md).
 */
export function debInstall(opts: DebInstallOptions): KindBuild {
  return defineKind('deb', [], { keep: opts.keep, drop: opts.drop }, async ({ ctx, stage }) => {
    await cp(join(ctx.srcDir, 'deb'), stage, { recursive: true, verbatimSymlinks: true });
  });
}
