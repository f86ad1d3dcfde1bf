import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ZosError, hostToolError } from '../util/errors.js';
import type { CpioEntry } from './cpio.js';

/**
 * A mounted layer: a component nothing needs before the agent runs (command tools and their
 * libraries) reaches the node as a read-only squashfs image that core0 mounts at start, instead of
 * files the kernel decompresses into RAM at every boot. The kernel unpacks only the image file
 * (already compressed, stored as is) and a link in place of each of the layer's files, pointing into
 * the mount; a file is decompressed when something reads it, and its pages can be dropped again.
 *
 *   /usr/lib/zos/layers/nftables.squashfs    the image
 *   /usr/lib/zos/layers/nftables/            where core0 mounts it
 *   /usr/sbin/nft -> /usr/lib/zos/layers/nftables/usr/sbin/nft
 *
 * The layer's directories and symlinks are unpacked as they are (the image holds them too, so paths
 * resolved from inside the mount agree), and so are its files under etc/ and var/: configuration
 * stays writable. A later layer replaces a link the way it would replace the file.
 */

/** Where mounted layers' images and mount points live (agent/internal/layers/layers.go reads it). */
export const LAYERS_DIR = 'usr/lib/zos/layers';

/** Files that stay ordinary files in the initramfs: configuration and state stay writable. */
const UNPACKED = /^(etc|var)(\/|$)/;

/** The squashfs writer. Pinned flags: the bytes depend only on the tree and `epoch`. */
export const SQUASHFS_TOOL = { tool: 'mksquashfs', debianPackage: 'squashfs-tools' } as const;
const squashfsArgs = (epoch: number): string[] => [
  '-noappend',
  // zstd, fast to decompress on demand, in 1 MiB blocks (squashfs's largest). Files smaller than
  // a block go whole into shared fragment blocks, compressed together: statically linked tools
  // that share most of their code compress almost as well as in one stream (util-linux's ten
  // binaries: 1.09 MB, against 1.64 MB in 128 KiB blocks and 0.65 MB in the zstd stream). A mount
  // costs about 20 ms more under TCG than with 128 KiB blocks; core0 mounts in the background.
  ...['-comp', 'zstd', '-Xcompression-level', '19', '-b', '1M'],
  // Owners, times and xattrs of the staging tree are the build host's: none of them reach the image.
  ...['-all-root', '-no-xattrs', '-mkfs-time', String(epoch), '-all-time', String(epoch)],
  // Nothing exports a node's tools over NFS; without the table the image is smaller.
  '-no-exports',
  // mksquashfs's default, stated: the output does not depend on thread count or timing.
  '-reproducible',
  ...['-quiet', '-no-progress'],
];

const isImageFile = (e: CpioEntry): boolean => e.type === 'file' && !UNPACKED.test(e.path);

/** Whether a mounted layer with these entries has anything to put in an image. */
export const hasImageFiles = (entries: readonly CpioEntry[]): boolean => entries.some(isImageFile);

/** What the initramfs carries for a mounted layer: its image's files become links into the mount. */
export function mountedEntries(entries: readonly CpioEntry[], component: string, image: string): CpioEntry[] {
  const mountPoint = `${LAYERS_DIR}/${component}`;
  const out: CpioEntry[] = entries.map((e) =>
    isImageFile(e) ? { path: e.path, type: 'symlink', mode: 0o777, target: `/${mountPoint}/${e.path}` } : e,
  );
  const have = new Set(entries.map((e) => e.path));
  const parts = mountPoint.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (!have.has(dir)) out.push({ path: dir, type: 'dir', mode: 0o755 });
  }
  out.push({ path: `${LAYERS_DIR}/${component}.squashfs`, type: 'file', mode: 0o644, data: { file: image } });
  return out;
}

/**
 * Writes the layer's tree (every entry but the files that stay unpacked) as a squashfs image at
 * `image`, through a staging copy in `workDir` that carries exactly the entries' modes. A layer holds
 * only files, directories and symlinks (collectRootfs refuses anything else in a staging tree).
 */
export async function writeLayerImage(
  entries: readonly CpioEntry[],
  component: string,
  epoch: number,
  image: string,
  workDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const root = join(workDir, 'squashfs-root');
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true, mode: 0o755 });
  const dirs: CpioEntry[] = [];
  for (const e of entries) {
    const at = join(root, e.path);
    if (e.type === 'dir') {
      await mkdir(at, { recursive: true });
      dirs.push(e);
    } else if (e.type === 'symlink') {
      await symlink(e.target!, at);
    } else if (isImageFile(e)) {
      const data = e.data;
      if (data === undefined || Buffer.isBuffer(data)) await writeFile(at, data ?? Buffer.alloc(0));
      else await copyFile(data.file, at);
      await chmod(at, e.mode);
    }
  }
  // Modes last, deepest first: a read-only directory does not stop the copies into it.
  for (const d of dirs.reverse()) await chmod(join(root, d.path), d.mode);
  await chmod(root, 0o755);
  await rm(image, { force: true });
  try {
    await promisify(execFile)(SQUASHFS_TOOL.tool, [root, image, ...squashfsArgs(epoch)], {
      signal,
      maxBuffer: 1 << 20,
    });
  } catch (err) {
    await rm(image, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw (
      hostToolError(`${SQUASHFS_TOOL.tool} (mounted layer ${component})`, SQUASHFS_TOOL.debianPackage, e) ??
      new ZosError(`${SQUASHFS_TOOL.tool} failed for mounted layer ${component}: ${(e.stderr ?? e.message).trim()}`)
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
