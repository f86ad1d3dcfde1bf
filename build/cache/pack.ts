import { lstat, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackGuarded } from '../steps/extract.js';

/** node-tar, loaded when a step output is packed or unpacked (never by a no-op build). */
const tar = (): Promise<typeof import('tar')> => import('tar');

/**
 * Deterministic tar archives of step output directories, and careful extraction of them.
 *
 * Determinism matters beyond tidiness: two CI runners that build the same step concurrently upload
 * to the same remote name, and identical inputs should give identical bytes.
 */

/** Every path under `root` (directories included, symlinks not followed), sorted: parents first. */
async function treeEntries(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(rel: string): Promise<void> {
    for (const name of await readdir(rel ? join(root, rel) : root)) {
      const child = rel ? `${rel}/${name}` : name;
      out.push(child);
      if ((await lstat(join(root, child))).isDirectory()) await visit(child);
    }
  }
  await visit('');
  // Code-unit order is stable across machines (unlike locale order); a parent is a prefix of its
  // children, so it always sorts before them.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Writes a tar of the contents of `root` to `dest`: sorted entries, mtime 0, no owners, no
 * atime/ctime (`portable`), so equal trees give equal bytes. Symlinks are stored as links; file
 * modes keep their exec bits (portable mode normalises group/other write bits away).
 */
export async function packTree(root: string, dest: string): Promise<void> {
  const entries = await treeEntries(root);
  if (entries.length === 0) {
    await writeFile(dest, Buffer.alloc(EMPTY_ARCHIVE_BYTES)); // an empty archive: two zero blocks
    return;
  }
  const { create } = await tar();
  await create(
    { file: dest, cwd: root, portable: true, mtime: new Date(0), noDirRecurse: true, strict: true },
    entries,
  );
}

const EMPTY_ARCHIVE_BYTES = 1024;

async function isEmptyArchive(file: string): Promise<boolean> {
  const { size } = await stat(file);
  return size === EMPTY_ARCHIVE_BYTES && (await readFile(file)).every((b) => b === 0);
}

/**
 * Extracts an archive written by `packTree` into `dir` (created if needed), exactly as stored, or
 * throws UnsafeArchiveError.
 */
export async function unpackTree(file: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // packTree's empty archive (an empty step output, e.g. a layer with no files): tar readers call
  // a file of zero blocks alone "unrecognized", so it is recognised here.
  if (await isEmptyArchive(file)) return;
  // The same guard as source archives: a remote entry is as untrusted as an upstream tarball (links
  // out of the tree, links to links, writes through symlinks are all refused, with the entry named).
  // Absolute symlink targets (`sbin/init -> /bin/busybox`) are kept verbatim. Archived mtimes are 0
  // (1970), which some tools reject (zip needs >= 1980): files get "now" instead.
  await unpackGuarded(file, dir, { strip: 0, decompressor: null, keepMtimes: false });
}
