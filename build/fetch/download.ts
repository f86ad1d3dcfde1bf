import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { errorMessage } from '../util/errors.js';

export interface DownloadOptions {
  /** Abort when no byte arrives for this long. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (received: number, total: number | undefined) => void;
}

export type DownloadResult =
  | { ok: true; sha256: string; bytes: number }
  /** `retry`: worth trying the same URL again (network trouble, 5xx); otherwise move on. */
  | { ok: false; reason: string; retry: boolean };

/**
 * Streams `url` into `dest`, hashing while writing. Never throws for network trouble: the caller
 * decides whether to retry or move to the next location.
 */
export async function downloadTo(url: string, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  const ac = new AbortController();
  const onOuterAbort = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort);
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => ac.abort(new Error(`no data for ${opts.idleTimeoutMs} ms`)), opts.idleTimeoutMs);
  };
  try {
    arm();
    const res = await fetch(url, { signal: ac.signal, redirect: 'follow' });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return { ok: false, reason: `HTTP ${res.status} ${res.statusText}`, retry: res.status >= 500 || res.status === 429 };
    }
    const total = Number(res.headers.get('content-length')) || undefined;
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        arm();
        hash.update(chunk);
        bytes += chunk.length;
        opts.onProgress?.(bytes, total);
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(dest));
    if (total !== undefined && bytes !== total) {
      return { ok: false, reason: `connection closed after ${bytes} of ${total} bytes`, retry: true };
    }
    return { ok: true, sha256: hash.digest('hex'), bytes };
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const cause = (err as { cause?: unknown }).cause;
    const reason = ac.signal.aborted ? errorMessage(ac.signal.reason) : `${errorMessage(err)}${cause ? ` (${errorMessage(cause)})` : ''}`;
    return { ok: false, reason, retry: true };
  } finally {
    clearTimeout(idle);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}
