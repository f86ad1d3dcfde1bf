import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
    await writeFile(dest, Buffer.alloc(1024)); // an empty archive: two zero blocks
    return;
  }
  const { create } = await tar();
  await create({ file: dest, cwd: root, portable: true, mtime: new Date(0), noDirRecurse: true, strict: true }, entries);
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** A relative path with no empty, `.` or `..` component. */
function isPlainRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && path.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

/**
 * Rejects an archive that could write outside the directory it is extracted into: absolute or `..`
 * paths, hard links leaving the tree, entries below a symlink, duplicates, or special files.
 * Needed because `unpackTree` turns off node-tar's own path rewriting, which would otherwise
 * mangle legitimate absolute or `../` symlink targets (`sbin/init -> /bin/busybox`).
 */
async function checkArchive(file: string): Promise<void> {
  const seen = new Set<string>();
  const symlinks = new Set<string>();
  let problem: string | undefined;
  const underSymlink = (path: string) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) if (symlinks.has(parts.slice(0, i).join('/'))) return true;
    return false;
  };
  const { list } = await tar();
  await list({
    file,
    strict: true,
    onReadEntry: (entry) => {
      const path = entry.path.replace(/\/$/, '');
      const type = entry.type;
      let bad: string | undefined;
      if (!isPlainRelative(path)) bad = 'path is not a plain relative path';
      else if (seen.has(path)) bad = 'appears twice';
      else if (underSymlink(path)) bad = 'lies below a symlink';
      else if (type === 'Link' && !(isPlainRelative(entry.linkpath ?? '') && !underSymlink(entry.linkpath!))) bad = 'hard link leaves the tree';
      else if (!FILE_TYPES.has(type) && type !== 'Directory' && type !== 'SymbolicLink' && type !== 'Link') bad = `unsupported entry type ${type}`;
      if (bad) problem ??= `archive entry ${JSON.stringify(entry.path)}: ${bad}`;
      seen.add(path);
      if (type === 'SymbolicLink') symlinks.add(path);
      entry.resume();
    },
  });
  if (problem) throw new Error(problem);
}

/** Extracts an archive written by `packTree` into `dir` (created if needed), exactly as stored. */
export async function unpackTree(file: string, dir: string): Promise<void> {
  await checkArchive(file);
  await mkdir(dir, { recursive: true });
  const { extract } = await tar();
  await extract({
    file,
    cwd: dir,
    strict: true,
    // Safe after checkArchive; keeps symlink targets verbatim.
    preservePaths: true,
    // The archive has no owners: files belong to whoever runs the build, even as root.
    preserveOwner: false,
    // Archived mtimes are 0 (1970), which some tools reject (zip needs >= 1980): use "now" instead.
    noMtime: true,
  });
}
