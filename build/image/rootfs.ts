import type { Stats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ZosError } from '../util/errors.js';
import { sortEntries, type CpioEntry } from './cpio.js';

/**
 * Assembles the image's root filesystem as a list of cpio entries, without copying anything: the
 * staged outputs of recipes and rootfs-overlay/ are read in place, in order, later layers winning.
 */

/** A file the build writes itself, e.g. `etc/os-release`. */
export interface GeneratedFile {
  path: string;
  data: string | Buffer;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

/** A device node the kernel needs before devtmpfs is mounted. */
export interface DeviceNode {
  path: string;
  type: 'char' | 'block';
  major: number;
  minor: number;
  mode: number;
}

/**
 * The kernel opens /dev/console for init's stdio before anything mounts devtmpfs; without it init
 * runs with no console output. /dev/null is what early shell scripts redirect to.
 */
export const STANDARD_DEVICES: readonly DeviceNode[] = [
  { path: 'dev/console', type: 'char', major: 5, minor: 1, mode: 0o600 },
  { path: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
];

/** Where an entry came from, to name both sides of a conflict. */
interface Placed {
  entry: CpioEntry;
  origin: string;
}

/**
 * Permissions as the source has them (exec bits, setuid, 0600 secrets...) minus group/other write,
 * which a build tree picks up from a loose umask and must not reach the image. Sticky directories
 * (tmp) are the exception: they are meant to be world-writable.
 */
export function normalizeMode(st: Pick<Stats, 'mode'>, isDir: boolean): number {
  const perm = st.mode & 0o7777;
  if (isDir && perm & 0o1000) return perm;
  return perm & ~0o022;
}

/**
 * Modes of files that come from a git checkout: git records only the exec bit, and the rest is the
 * checkout's umask, so the image takes 0755/0644 whatever umask cloned the repository.
 */
export function gitMode(st: Pick<Stats, 'mode'>, isDir: boolean): number {
  return isDir || st.mode & 0o100 ? 0o755 : 0o644;
}

/** A rootfs layer: a directory, optionally with modes taken the way git records them. */
export type RootfsLayer = string | { dir: string; modes: 'as-is' | 'git' };

function kindName(e: CpioEntry): string {
  return e.type === 'dir'
    ? 'a directory'
    : e.type === 'symlink'
      ? 'a symlink'
      : `a ${e.type === 'file' ? 'file' : 'device node'}`;
}

function checkRelPath(path: string, origin: string): void {
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || parts.some((c) => c === '' || c === '.' || c === '..')) {
    throw new ZosError(
      `${origin}: bad rootfs path ${JSON.stringify(path)}: must be relative, without "." or ".." parts`,
    );
  }
}

class Tree {
  private readonly byPath = new Map<string, Placed>();

  /** Adds or overrides an entry. A directory and a non-directory never replace each other. */
  put(entry: CpioEntry, origin: string): void {
    const old = this.byPath.get(entry.path);
    if (old && (old.entry.type === 'dir') !== (entry.type === 'dir')) {
      throw new ZosError(
        `rootfs conflict at ${entry.path}: it is ${kindName(old.entry)} in ${old.origin} but ${kindName(entry)} in ${origin}`,
        'A later layer may replace a file with a file, not a directory with a file or the reverse. Rename or remove one of them.',
      );
    }
    this.byPath.set(entry.path, { entry, origin });
  }

  /** Makes the parent directories of `path` (0755) that no layer provided. */
  ensureParents(path: string, origin: string): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const old = this.byPath.get(dir);
      if (!old) this.byPath.set(dir, { entry: { path: dir, type: 'dir', mode: 0o755 }, origin });
      else if (old.entry.type !== 'dir')
        this.put({ path: dir, type: 'dir', mode: 0o755 }, `${origin} (parent of ${path})`);
    }
  }

  entries(): CpioEntry[] {
    return sortEntries([...this.byPath.values()].map((p) => p.entry));
  }
}

/**
 * Walks a layer with synchronous calls: thousands of lstats through fs/promises cost a thread-pool
 * round trip each, several times the walk itself (as for the cpio writer's reads).
 */
function walkLayer(tree: Tree, spec: RootfsLayer): void {
  const layer = typeof spec === 'string' ? spec : spec.dir;
  const modeOf = typeof spec !== 'string' && spec.modes === 'git' ? gitMode : normalizeMode;
  const top = lstatSync(layer, { throwIfNoEntry: false });
  if (!top?.isDirectory()) throw new ZosError(`rootfs layer ${layer} is not a directory`);

  function visit(abs: string, rel: string): void {
    // Sorted so that the first conflict reported is the same on every run.
    for (const name of readdirSync(abs).sort()) {
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const st = lstatSync(childAbs);
      if (st.isDirectory()) {
        tree.put({ path: childRel, type: 'dir', mode: modeOf(st, true) }, layer);
        visit(childAbs, childRel);
      } else if (st.isSymbolicLink()) {
        tree.put({ path: childRel, type: 'symlink', mode: 0o777, target: readlinkSync(childAbs) }, layer);
      } else if (st.isFile()) {
        // Hard links in a staging tree become independent copies: the image never uses hard links.
        // The size saves the writer a second stat; it still checks it while reading.
        const data = { file: childAbs, size: st.size };
        tree.put({ path: childRel, type: 'file', mode: modeOf(st, false), data }, layer);
      } else {
        throw new ZosError(
          `${layer}: ${childRel} is a socket, FIFO or device node; a rootfs layer may only hold files, directories and symlinks`,
          'Device nodes are added by the image builder (see STANDARD_DEVICES), not staged by recipes.',
        );
      }
    }
  }
  visit(layer, '');
}

/**
 * Reads `layers` in order (recipe staging dirs, then rootfs-overlay/), adds `generated` files and
 * then `devices`, and returns the sorted entry list for the cpio writer. Owners are not carried:
 * the writer makes everything root's.
 */
export async function collectRootfs(
  layers: readonly RootfsLayer[],
  generated: readonly GeneratedFile[] = [],
  devices: readonly DeviceNode[] = STANDARD_DEVICES,
): Promise<CpioEntry[]> {
  const tree = new Tree();
  for (const layer of layers) walkLayer(tree, layer);
  for (const g of generated) {
    checkRelPath(g.path, 'generated');
    tree.ensureParents(g.path, 'generated');
    const data = typeof g.data === 'string' ? Buffer.from(g.data, 'utf8') : g.data;
    tree.put({ path: g.path, type: 'file', mode: g.mode & 0o7777, data }, 'generated');
  }
  for (const d of devices) {
    checkRelPath(d.path, 'devices');
    tree.ensureParents(d.path, 'devices');
    tree.put({ path: d.path, type: d.type, mode: d.mode & 0o7777, rdevMajor: d.major, rdevMinor: d.minor }, 'devices');
  }
  return tree.entries();
}
