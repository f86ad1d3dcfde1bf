import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { rmrf } from '../util/fs.js';
import { ownerGone, ownerTag, parseOwnerTag } from '../util/owner.js';

/**
 * Scratch directories of build attempts. Every attempt gets a new one (`<step>-<fp12>.attempt-
 * <owner>-XXXXXX`): a build killed with -9 can leave children that still write into its old
 * absolute paths, and they must never land in a later attempt's tree, whose output is cached under
 * the fingerprint. Old attempt dirs are deleted only once their owner is provably gone (owner.ts).
 */

const ATTEMPT_RE = /\.attempt-(\d+(?:\.\d+)?)-[A-Za-z0-9]{6}$/;

export async function newWorkDir(root: string, name: string): Promise<string> {
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${name}.attempt-${ownerTag()}-`));
}

/** Removes attempt dirs of builds that no longer run; returns how many. */
export async function sweepWorkDirs(root: string): Promise<number> {
  const stale = (await readdir(root).catch(() => [] as string[])).filter((n) => {
    const tag = ATTEMPT_RE.exec(n)?.[1];
    const owner = tag === undefined ? undefined : parseOwnerTag(tag);
    return owner !== undefined && ownerGone(owner);
  });
  await Promise.all(stale.map((n) => rmrf(join(root, n))));
  return stale.length;
}
