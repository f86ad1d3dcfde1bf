import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, rmrf, sweepStaleTemps, tempSibling } from '../util/fs.js';

/**
 * Outputs of build steps, one directory per fingerprint. A step writes into a temp directory that is
 * renamed to its fingerprint only after the step succeeded, so an interrupted or failed step never
 * leaves anything a later build could mistake for a finished output.
 */
export class StepStore {
  readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'steps');
  }

  pathOf(fingerprint: string): string {
    return join(this.dir, fingerprint);
  }

  has(fingerprint: string): Promise<boolean> {
    return exists(this.pathOf(fingerprint));
  }

  /** A fresh temp path (not created) next to where `fingerprint`'s output goes. */
  tempPath(fingerprint: string): string {
    return tempSibling(this.pathOf(fingerprint));
  }

  async tempDir(fingerprint: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const tmp = tempSibling(this.pathOf(fingerprint));
    await mkdir(tmp);
    return tmp;
  }

  /** Makes a finished temp output the cached output of `fingerprint`. */
  async commit(tmp: string, fingerprint: string): Promise<string> {
    const dest = this.pathOf(fingerprint);
    try {
      await rename(tmp, dest);
    } catch (err) {
      // Same fingerprint finished by someone else meanwhile: identical by construction, keep theirs.
      if (!(await exists(dest))) throw err;
      await rmrf(tmp);
    }
    return dest;
  }

  /**
   * The lock a build holds while it produces `fingerprint`'s output: builds of different steps (two
   * profiles, two recipe sets) share the cache freely, and two builds of the same step wait for
   * each other so the second reuses the first's output.
   */
  lockPath(fingerprint: string): string {
    return join(this.dir, 'locks', fingerprint);
  }

  /** Deletes temp outputs left by killed builds (owner gone); live builds' temps are kept. */
  sweepTemps(): Promise<number> {
    return sweepStaleTemps(this.dir);
  }
}
