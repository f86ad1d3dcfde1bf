import { lstat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Paths that come from recipes or archives (untrusted input) and must stay inside a given tree.
 */

/** A `/`-separated relative path with no empty, `.` or `..` component and no NUL byte. */
export function isPlainRelative(path: string): boolean {
  return (
    path !== '' &&
    !path.includes('\0') &&
    !path.startsWith('/') &&
    path.split('/').every((c) => c !== '' && c !== '.' && c !== '..')
  );
}

/**
 * Why `rel` (a plain relative path) is not a regular file reached from `root` without following
 * any symlink, or undefined when it is. Checking each component with lstat is what keeps a source
 * tree's `LICENSE -> /etc/passwd` or `doc -> /etc` from pulling host files into an output.
 */
export async function notRegularFileInside(root: string, rel: string): Promise<string | undefined> {
  if (!isPlainRelative(rel)) return 'is not a plain relative path';
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const st = await lstat(join(root, sub)).catch(() => undefined);
    if (!st) return `does not exist in ${root}`;
    if (st.isSymbolicLink()) return `is reached through the symlink ${sub}, not a regular file inside ${root}`;
    if (i < parts.length && !st.isDirectory()) return `has ${sub}, which is not a directory`;
    if (i === parts.length && !st.isFile()) return 'is not a regular file';
  }
  return undefined;
}
