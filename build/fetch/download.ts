import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { errorMessage } from '../util/errors.js';

export interface DownloadOptions {
  /** Abort when no byte arrives for this long (also covers connecting and waiting for headers). */
  idleTimeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (received: number, total: number | undefined) => void;
}

export type DownloadResult =
  | { ok: true; sha256: string; bytes: number }
  /** `retry`: worth trying the same URL again (network trouble, 5xx); otherwise move on. */
  | { ok: false; reason: string; retry: boolean };

/**
 * Streams `url` into `dest` (created or truncated), hashing while writing. Never throws for network
 * trouble: the caller decides whether to retry or move to the next location. Throws only when
 * `opts.signal` aborts (its reason), or when `dest` cannot be written (the file system error).
 * When it returns or throws, `dest` is closed and nothing writes to it any more, so the caller may
 * delete it right away.
 */
export async function downloadTo(url: string, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  opts.signal?.throwIfAborted();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid URL', retry: false };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: `unsupported URL scheme ${parsed.protocol}`, retry: false };
  }

  // Opened (and later closed) by us rather than by a write stream: a stream opens its file lazily,
  // so after an early failure it could create `dest` again after the caller had deleted it.
  const file = await open(dest, 'w');
  const ac = new AbortController();
  const onOuterAbort = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort);
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => ac.abort(new Error(`no data for ${opts.idleTimeoutMs} ms`)), opts.idleTimeoutMs);
  };
  let bytes = 0;
  let total: number | undefined;
  try {
    arm();
    // `identity`: fetch transparently decodes Content-Encoding, which would change the bytes we
    // hash (a .tar.gz served as `Content-Encoding: gzip` would arrive as a .tar).
    const res = await fetch(parsed, {
      signal: ac.signal,
      redirect: 'follow',
      headers: { 'accept-encoding': 'identity' },
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      return {
        ok: false,
        reason: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
        retry: res.status >= 500 || res.status === 429,
      };
    }
    const length = res.headers.get('content-length');
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    // Content-Length counts encoded bytes; it can only be checked when nothing was decoded.
    total = length !== null && !encoded && /^\d+$/.test(length) ? Number(length) : undefined;
    const hash = createHash('sha256');
    for await (const chunk of res.body) {
      arm();
      hash.update(chunk);
      await file.write(chunk).catch((err: unknown) => {
        throw new LocalWriteError(err);
      });
      bytes += chunk.length;
      opts.onProgress?.(bytes, total);
    }
    if (total !== undefined && bytes !== total) {
      return { ok: false, reason: `connection closed after ${bytes} of ${total} bytes`, retry: true };
    }
    return { ok: true, sha256: hash.digest('hex'), bytes };
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    // A full or broken disk is not the server's fault: trying other locations would not help.
    if (err instanceof LocalWriteError) throw err.cause;
    const cause = (err as { cause?: unknown }).cause;
    let reason = ac.signal.aborted
      ? errorMessage(ac.signal.reason)
      : `${errorMessage(err)}${cause ? ` (${errorMessage(cause)})` : ''}`;
    if (bytes > 0) reason += ` after ${bytes}${total === undefined ? '' : ` of ${total}`} bytes`;
    return { ok: false, reason, retry: true };
  } finally {
    clearTimeout(idle);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    await file.close();
  }
}

/** Marks a failure to write the local file, as opposed to a network failure. */
class LocalWriteError extends Error {
  constructor(override readonly cause: unknown) {
    super(errorMessage(cause));
  }
}
