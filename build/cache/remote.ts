import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { exists, rmrf, tempSibling } from '../util/fs.js';
import { SHA256_RE, sha256File } from '../util/hash.js';
import { packTree, unpackTree } from './pack.js';
import { formatMeta, parseMeta } from './remote-meta.js';
import { getSmall, getToFile, put, type CallOptions } from './remote-http.js';

export interface RemoteStepCacheOptions {
  /** Base URL; entries are `<url>/<fingerprint>.tar` and `<url>/<fingerprint>.json`. */
  url: string;
  /** Never upload (untrusted jobs, e.g. pull requests from forks). */
  readOnly: boolean;
  /** Give up on a request after this long without progress. Default 60 s. */
  timeoutMs?: number;
  /** Where uploads are packed before sending. Default: the OS temp dir. */
  tmpDir?: string;
  log?: (line: string) => void;
}

const MAX_META_BYTES = 64 * 1024;

/**
 * An optional shared cache of build step outputs over plain HTTP GET/PUT (nginx with WebDAV PUT,
 * or any server that stores what it is sent). Purely an accelerator: every failure — network,
 * server, corrupt or partial entries — is logged as a warning and treated as a miss, so a broken
 * cache never fails a build and never yields a partially written output directory.
 */
export class RemoteStepCache {
  private readonly url: string;
  private readonly call: CallOptions;

  constructor(private readonly opts: RemoteStepCacheOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.call = { timeoutMs: opts.timeoutMs ?? 60_000 };
  }

  private log(line: string): void {
    this.opts.log?.(`remote cache: ${line}`);
  }

  private warn(fingerprint: string, problem: string): void {
    this.log(`warning: ${fingerprint}: ${problem}; ignored`);
  }

  /**
   * Fetches the output of step `fingerprint` into `destDir`, which must not exist yet (its parent is
   * created). True on a verified hit; false on a miss or any problem, with `destDir` still absent.
   * Throws only for caller mistakes (bad fingerprint, existing `destDir`).
   */
  async get(fingerprint: string, destDir: string): Promise<boolean> {
    checkFingerprint(fingerprint);
    if (await exists(destDir)) throw new Error(`RemoteStepCache.get: ${destDir} already exists`);
    const base = `${this.url}/${fingerprint}`;
    // Siblings of destDir: same filesystem, so the final rename is atomic.
    const work = tempSibling(destDir);
    const tarTmp = `${work}.tar`;
    try {
      const metaRes = await getSmall(`${base}.json`, MAX_META_BYTES, this.call);
      if (metaRes.status === 404) {
        this.log(`miss ${fingerprint}`);
        return false;
      }
      if (metaRes.status !== 200) {
        this.warn(fingerprint, `GET ${base}.json: HTTP ${metaRes.status}`);
        return false;
      }
      const meta = parseMeta(metaRes.body.toString('utf8'), fingerprint);
      await mkdir(dirname(destDir), { recursive: true });
      const tar = await getToFile(`${base}.tar`, tarTmp, meta.size, this.call);
      if (!tar.ok) {
        this.warn(fingerprint, `GET ${base}.tar: HTTP ${tar.status}`);
        return false;
      }
      if (tar.size !== meta.size) {
        // getToFile stops reading past meta.size, so a longer tar is only known to be longer.
        const got = tar.size > meta.size ? `more than ${meta.size}` : `${tar.size}`;
        this.warn(fingerprint, `${base}.tar has ${got} bytes, metadata says ${meta.size} (truncated or replaced)`);
        return false;
      }
      if (tar.sha256 !== meta.sha256) {
        this.warn(fingerprint, `${base}.tar has sha256 ${tar.sha256}, metadata says ${meta.sha256} (corrupt)`);
        return false;
      }
      await unpackTree(tarTmp, work);
      await rename(work, destDir);
      this.log(`hit ${fingerprint} (${meta.size} bytes)`);
      return true;
    } catch (err) {
      this.warn(fingerprint, errorMessage(err));
      return false;
    } finally {
      await rm(tarTmp, { force: true });
      await rmrf(work); // gone already after a successful rename
    }
  }

  /** Whether the remote holds an entry for `fingerprint` (its metadata; the tar is checked on get). */
  async has(fingerprint: string): Promise<boolean> {
    checkFingerprint(fingerprint);
    try {
      return (await getSmall(`${this.url}/${fingerprint}.json`, MAX_META_BYTES, this.call)).status === 200;
    } catch {
      return false;
    }
  }

  get readOnly(): boolean {
    return this.opts.readOnly;
  }

  /**
   * Uploads the output of step `fingerprint` from `srcDir`: the tar first, then its metadata, so a
   * reader never finds metadata for a missing tar. Call it after building a step locally (after a
   * remote miss). Uploads unconditionally: if two runners race with different bytes and the
   * metadata ends up describing the other tar, readers see a mismatch, miss, rebuild and upload a
   * consistent pair again, so a bad entry heals itself. Never throws for network or server trouble.
   */
  async put(fingerprint: string, srcDir: string): Promise<void> {
    checkFingerprint(fingerprint);
    if (this.opts.readOnly) return;
    const base = `${this.url}/${fingerprint}`;
    let tmp: string | undefined;
    try {
      tmp = await mkdtemp(join(this.opts.tmpDir ?? tmpdir(), 'zos-remote-put-'));
      const tarPath = join(tmp, `${fingerprint}.tar`);
      await packTree(srcDir, tarPath);
      const meta = {
        fingerprint,
        sha256: await sha256File(tarPath),
        size: (await stat(tarPath)).size,
        format: 1 as const,
      };
      const tarStatus = await put(`${base}.tar`, { file: tarPath }, this.call);
      if (tarStatus < 200 || tarStatus >= 300) {
        this.log(`warning: ${fingerprint}: PUT ${base}.tar: HTTP ${tarStatus}; not uploaded`);
        return;
      }
      const metaStatus = await put(`${base}.json`, { buffer: Buffer.from(formatMeta(meta)) }, this.call);
      if (metaStatus < 200 || metaStatus >= 300) {
        this.log(`warning: ${fingerprint}: PUT ${base}.json: HTTP ${metaStatus}; not uploaded`);
        return;
      }
      this.log(`uploaded ${fingerprint} (${meta.size} bytes)`);
    } catch (err) {
      this.log(`warning: ${fingerprint}: upload failed: ${errorMessage(err)}; not uploaded`);
    } finally {
      if (tmp) await rmrf(tmp);
    }
  }
}

function checkFingerprint(fingerprint: string): void {
  if (!SHA256_RE.test(fingerprint))
    throw new Error(`not a step fingerprint (64 lowercase hex digits): ${JSON.stringify(fingerprint)}`);
}
