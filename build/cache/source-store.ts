import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, sweepStaleTemps, tempSibling } from '../util/fs.js';

/**
 * The download cache: files named by their sha256. A file only ever gets its final name after its
 * bytes hashed to that name, so anything found here can be trusted without re-hashing.
 */
export class SourceStore {
  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return exists(this.pathOf(sha256));
  }

  /** A temp path next to the store for a download in progress. */
  async tempPath(sha256: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    return tempSibling(this.pathOf(sha256));
  }

  /** Moves a verified temp file into place. The caller has checked its hash. */
  async commit(tmp: string, sha256: string): Promise<string> {
    const dest = this.pathOf(sha256);
    await rename(tmp, dest);
    return dest;
  }

  /** Deletes partial downloads of killed fetches (owner gone); live downloads are kept. */
  sweepTemps(): Promise<number> {
    return sweepStaleTemps(this.dir);
  }

  async discard(tmp: string): Promise<void> {
    await rm(tmp, { force: true });
  }
}
