import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ZosError } from './errors.js';
import { ownerGone, ownerTag, parseOwnerTag, type Owner } from './owner.js';

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A sibling temp name: same filesystem, so the final rename is atomic. It names its owner
 * (`.tmp-<pid>.<start>-<random>`, see owner.ts) so that leftovers of a killed process can be told
 * from files a live one is still writing (tempOwner, sweepStaleTemps).
 */
export function tempSibling(path: string): string {
  return `${path}.tmp-${ownerTag()}-${randomBytes(4).toString('hex')}`;
}

/** The owner of a tempSibling name, or undefined if `name` is not one. */
export function tempOwner(name: string): Owner | undefined {
  const m = /\.tmp-(\d+(?:\.\d+)?)-[0-9a-f]+$/.exec(name);
  return m ? parseOwnerTag(m[1]!) : undefined;
}

/** Removes the temp files and dirs in `dir` whose owner is gone; returns how many. */
export async function sweepStaleTemps(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => {
    const owner = tempOwner(n);
    return owner !== undefined && ownerGone(owner);
  });
  await Promise.all(stale.map((n) => rmrf(join(dir, n))));
  return stale.length;
}

/** Writes a file so that readers see either the old content or the new, never a partial one. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function rmrf(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Every regular file below `root`, as `/`-separated relative paths in bytewise order (stable across
 * locales). Anything else (symlinks, devices) is an error: callers copy or hash plain files only.
 */
export async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (e.isFile()) out.push(p);
    else throw new ZosError(`${join(root, p)}: not a regular file or directory`);
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
