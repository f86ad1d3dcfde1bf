import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ZosError } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock on a cache or output directory, held for one build. A lock left by a process
 * that no longer exists (killed, machine rebooted) is taken over; a live holder is an error, because
 * two builds writing the same step outputs would race.
 */
export async function acquireLock(path: string, what: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new ZosError(
          `${what} ${dirname(path)} is in use by another zos-build (pid ${holder})`,
          `Wait for it to finish, or use a different --out / --cache-dir. Lock file: ${path}`,
        );
      }
      await rm(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new ZosError(`could not take the lock ${path}`);
}
