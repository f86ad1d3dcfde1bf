import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZosError } from './errors.js';
import { ownerGone, ownerTag, parseOwnerTag, type Owner } from './owner.js';

/**
 * Exclusive locks as files holding their owner (`<pid>.<start time>`, see owner.ts). A lock is taken
 * over only when its owner is provably gone: a pid now used by an unrelated process does not count
 * as the holder, and a live holder is never displaced.
 *
 * Taking over is race-free between contenders: the stale file is renamed away (only one rename of
 * it can succeed) and then checked to still be the stale one before it is deleted; a fresh lock
 * moved by mistake is linked back.
 */

export type Release = () => Promise<void>;

async function readOwner(path: string): Promise<{ text: string; owner: Owner | undefined } | undefined> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined ? undefined : { text, owner: parseOwnerTag(text) };
}

/** Tries once: the release function, or the live holder when someone else has it. */
export async function tryLock(path: string): Promise<{ release: Release } | { holder: Owner }> {
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${ownerTag()}\n`);
      await fh.close();
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let seen = await readOwner(path);
    if (seen && !seen.owner) {
      // Empty: a lock being written right now (open, then write), or one whose writer died between.
      await sleep(200);
      seen = await readOwner(path);
    }
    if (!seen) continue; // released meanwhile
    if (seen.owner && !ownerGone(seen.owner)) return { holder: seen.owner };
    await takeOverStale(path, seen.text);
  }
}

async function takeOverStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another contender moved it
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== staleText) {
    // A contender took it over between our read and our rename: give the fresh lock back (link
    // never replaces a lock created since; then that one wins and the moved one is dropped).
    await link(aside, path).catch(() => undefined);
    await rm(aside, { force: true });
    return;
  }
  await rm(aside, { force: true });
}

/** The exclusive lock on a cache or output directory; a live holder is an error naming it. */
export async function acquireLock(path: string, what: string): Promise<Release> {
  const got = await tryLock(path);
  if ('release' in got) return got.release;
  throw new ZosError(
    `${what} ${dirname(path)} is in use by another zos-build (pid ${got.holder.pid})`,
    `Wait for it to finish, or use a different --out / --cache-dir. Lock file: ${path}`,
  );
}

/**
 * Waits until the lock is free (or its holder gone), then takes it. `onWait` is called once, when
 * the lock is first found held.
 */
export async function waitForLock(
  path: string,
  opts: { signal?: AbortSignal; onWait?: (holder: Owner) => void; pollMs?: number } = {},
): Promise<Release> {
  let told = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    const got = await tryLock(path);
    if ('release' in got) return got.release;
    if (!told) opts.onWait?.(got.holder);
    told = true;
    await sleep(opts.pollMs ?? 500, undefined, { signal: opts.signal });
  }
}

/** The live holder of a lock, if any (stale locks are left for their next taker). */
export async function lockHolder(path: string): Promise<Owner | undefined> {
  const seen = await readOwner(path);
  if (!seen?.owner || ownerGone(seen.owner)) return undefined;
  return seen.owner;
}
