import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, rmrf, tempSibling } from '../util/fs.js';

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

  /** Deletes temp outputs left by interrupted builds (only ever called under the cache lock). */
  async sweepTemps(): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const stale = names.filter((n) => n.includes('.tmp-'));
    await Promise.all(stale.map((n) => rmrf(join(this.dir, n))));
    return stale.length;
  }
}
