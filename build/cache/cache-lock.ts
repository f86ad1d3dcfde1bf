import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZosError } from '../util/errors.js';
import { acquireLock, lockHolder, type Release } from '../util/lock.js';
import { ownerGone, ownerTag, parseOwnerTag } from '../util/owner.js';

/**
 * Who may use a cache directory at once. Builds share it: each registers in `users/` and locks only
 * the step outputs it produces (StepStore.lockPath), so two profiles build side by side. Commands
 * that delete from the cache (`clean`) need it alone: they hold `lock` and refuse while a live build
 * is registered. Each side first announces itself, then looks for the other, so of two that start
 * together at least one sees the other and stops.
 */

const usersDir = (cacheDir: string) => join(cacheDir, 'users');
const lockFile = (cacheDir: string) => join(cacheDir, 'lock');

/** Registers this process as a build using `cacheDir`. */
export async function shareCache(cacheDir: string): Promise<Release> {
  await mkdir(usersDir(cacheDir), { recursive: true });
  const me = join(usersDir(cacheDir), ownerTag());
  await writeFile(me, '');
  const release = () => rm(me, { force: true });
  const cleaner = await lockHolder(lockFile(cacheDir));
  if (cleaner) {
    await release();
    throw new ZosError(
      `cache ${cacheDir} is being cleaned by another zos-build (pid ${cleaner.pid})`,
      'Wait for it to finish, or use a different --cache-dir.',
    );
  }
  // Registrations of builds that were killed are forgotten here.
  for (const name of await readdir(usersDir(cacheDir))) {
    const owner = parseOwnerTag(name);
    if (owner && ownerGone(owner)) await rm(join(usersDir(cacheDir), name), { force: true });
  }
  return release;
}

/** Takes `cacheDir` for this process alone; fails naming a live build that uses it. */
export async function lockCacheAlone(cacheDir: string): Promise<Release> {
  const release = await acquireLock(lockFile(cacheDir), 'cache');
  const users = await readdir(usersDir(cacheDir)).catch(() => [] as string[]);
  const live = users.map(parseOwnerTag).find((o) => o !== undefined && !ownerGone(o));
  if (live) {
    await release();
    throw new ZosError(
      `cache ${cacheDir} is in use by another zos-build (pid ${live.pid})`,
      `Wait for it to finish, or use a different --cache-dir.`,
    );
  }
  return release;
}
