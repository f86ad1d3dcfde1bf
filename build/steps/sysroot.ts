import { cp, lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ZosError } from '../util/errors.js';
import { exists } from '../util/fs.js';
import { globToRegExp, matchesAny } from './glob.js';

/**
 * The sysroot: what C builds of the userland compile and link against. Every recipe's staged install
 * is split in two: development files (headers, static libraries, pkg-config files, aclocal macros)
 * go to `export/sysroot/` for its dependents, the rest to `rootfs/` for the image. A build sees the
 * merge of the sysroot exports of its whole dependency closure, never the host's /usr/include or
 * /usr/lib (see docs/userland.md).
 */

/** Development files: they go to the sysroot export, never into the image. */
const SYSROOT_GLOBS = [
  'usr/include/**',
  'include/**',
  '**/*.a',
  '**/*.la',
  '**/*.o',
  'usr/lib/pkgconfig/**',
  'usr/share/pkgconfig/**',
  'lib/pkgconfig/**',
  'usr/share/aclocal/**',
].map(globToRegExp);
/** libtool archives hold absolute build paths and are useless with static linking: dropped everywhere. */
const DISCARD_GLOBS = ['**/*.la'].map(globToRegExp);

/** Copies the sysroot exports of `deps` (in order, later ones winning) into `dest`. */
export async function mergeSysroots(exportDirs: readonly string[], dest: string): Promise<void> {
  await mkdir(join(dest, 'usr/include'), { recursive: true });
  await mkdir(join(dest, 'usr/lib/pkgconfig'), { recursive: true });
  for (const dir of exportDirs) {
    const from = join(dir, 'sysroot');
    if (await exists(from)) await cp(from, dest, { recursive: true, force: true, verbatimSymlinks: true });
  }
}

export interface SplitOptions {
  /** Globs of image files to keep (default: all that are not development files). */
  keep?: string[];
  /** Globs of image files to leave out, applied after keep. */
  drop?: string[];
  /** For error messages. */
  recipe: string;
}

/** Files (and symlinks) under `root`, relative, sorted; directories are implied by their contents. */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, r));
      if (st.isDirectory()) await visit(r);
      else out.push(r);
    }
  };
  await visit('');
  return out;
}

/**
 * Moves a staged install (`make install DESTDIR=stage`) into `sysroot` (development files) and
 * `rootfs` (what the image keeps). Returns the rootfs files. A `keep` glob that matches nothing is an
 * error: the recipe expects a file the build did not install.
 */
export async function splitStage(
  stage: string,
  sysroot: string,
  rootfs: string,
  opts: SplitOptions,
): Promise<string[]> {
  const keep = opts.keep?.map((g) => [g, globToRegExp(g)] as const);
  const drop = (opts.drop ?? []).map(globToRegExp);
  const used = new Set<string>();
  const kept: string[] = [];
  for (const rel of await listTree(stage)) {
    if (matchesAny(rel, DISCARD_GLOBS)) continue;
    let dest: string | undefined;
    if (matchesAny(rel, SYSROOT_GLOBS)) dest = join(sysroot, rel);
    else {
      const hit = keep ? keep.find(([, re]) => re.test(rel)) : undefined;
      if (hit) used.add(hit[0]);
      if ((!keep || hit) && !matchesAny(rel, drop)) {
        dest = join(rootfs, rel);
        kept.push(rel);
      }
    }
    if (!dest) continue;
    await mkdir(dirname(dest), { recursive: true });
    await rename(join(stage, rel), dest);
  }
  const unused = (opts.keep ?? []).filter((g) => !used.has(g));
  if (unused.length) {
    throw new ZosError(
      `recipe ${opts.recipe}: keep ${unused.map((g) => JSON.stringify(g)).join(', ')} matched no installed file`,
      `Installed (outside the sysroot): ${(await listTree(stage)).slice(0, 30).join(', ') || 'nothing'}`,
    );
  }
  await rm(stage, { recursive: true, force: true });
  return kept;
}

/**
 * pkg-config files written by a build can carry the build's own sysroot path (kmod's Libs.private
 * copies `-L<work dir>/sysroot/usr/lib` from its dependencies): the exported copy says `/usr/lib`,
 * which a dependent's PKG_CONFIG_SYSROOT_DIR maps into its own sysroot. Without this a step output
 * would hold a per-attempt path: not reproducible, and meaningless to the next build.
 */
export async function unrootPkgConfig(exportSysroot: string, buildSysroot: string): Promise<void> {
  const dir = join(exportSysroot, 'usr/lib/pkgconfig');
  if (!(await exists(dir))) return;
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith('.pc')) continue;
    const file = join(dir, name);
    const text = await readFile(file, 'utf8');
    if (text.includes(buildSysroot)) await writeFile(file, text.split(buildSysroot).join(''));
  }
}
