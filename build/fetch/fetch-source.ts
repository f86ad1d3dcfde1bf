import { setTimeout as sleep } from 'node:timers/promises';
import type { SourceStore } from '../cache/source-store.js';
import type { Source } from '../recipe/types.js';
import { HashMismatchError, ZosError } from '../util/errors.js';
import { downloadTo, type DownloadResult } from './download.js';
import { candidateUrls, type LocationOptions } from './locations.js';

export interface FetchOptions extends LocationOptions {
  offline: boolean;
  /** Attempts per URL for transient failures (network errors, 5xx, truncated bodies). */
  attemptsPerUrl: number;
  idleTimeoutMs: number;
  /** Pause before retrying the same URL; doubled on each attempt. */
  retryDelayMs: number;
  signal?: AbortSignal;
  note?: (line: string) => void;
  onProgress?: (url: string, received: number, total: number | undefined) => void;
}

export const defaultFetchOptions: Omit<FetchOptions, keyof LocationOptions> = {
  offline: false,
  attemptsPerUrl: 3,
  idleTimeoutMs: 30_000,
  retryDelayMs: 500,
};

/** The step log line of a source downloaded (not found in the cache) and verified. */
export const downloadedNote = (file: string, bytes: number, sha256: string): string =>
  `verified ${file}: ${bytes} bytes, sha256 ${sha256}`;

/** The file a step log line says was downloaded, if it is such a line (see downloadedNote). */
export function downloadedFile(line: string): string | undefined {
  return /^verified (\S+): \d+ bytes, sha256 [0-9a-f]{64}$/.exec(line)?.[1];
}

/**
 * Downloads in flight in this process, by store and sha256: two recipes pinning the same file (linux and
 * linux-headers share the kernel tarball) wait for one download instead of fetching it twice.
 */
const inflight = new Map<string, Promise<string>>();

/**
 * Returns the cached path of `source`, downloading it first if needed. Locations are tried in order;
 * a hash mismatch is fatal (a location served the wrong bytes: that is a pin or a mirror to fix, not
 * something to paper over by trying elsewhere), and nothing unverified ever enters the cache.
 * Throws the signal's reason if `opts.signal` aborts; the partial download is deleted.
 */
export function fetchSource(recipe: string, source: Source, store: SourceStore, opts: FetchOptions): Promise<string> {
  const key = `${store.dir}\0${source.sha256}`;
  let p = inflight.get(key);
  if (!p) {
    p = fetchOnce(recipe, source, store, opts).finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

async function fetchOnce(recipe: string, source: Source, store: SourceStore, opts: FetchOptions): Promise<string> {
  if (await store.has(source.sha256)) return store.pathOf(source.sha256);
  if (opts.offline) {
    throw new ZosError(
      `recipe ${recipe}: source ${source.file} (sha256 ${source.sha256}) is not in the download cache ${store.dir} and --offline forbids downloading`,
      'Run `zos-build fetch` while online (or with a mirror) first.',
    );
  }
  const failures: string[] = [];
  const attempts = Math.max(1, opts.attemptsPerUrl);
  for (const url of candidateUrls(source, opts)) {
    for (let attempt = 1; ; attempt++) {
      opts.signal?.throwIfAborted();
      const tmp = await store.tempPath(source.sha256);
      opts.note?.(`fetch ${url} (attempt ${attempt})`);
      let result: DownloadResult;
      try {
        result = await downloadTo(url, tmp, {
          idleTimeoutMs: opts.idleTimeoutMs,
          signal: opts.signal,
          onProgress: (got, total) => opts.onProgress?.(url, got, total),
        });
      } catch (err) {
        await store.discard(tmp);
        throw err;
      }
      if (result.ok) {
        if (result.sha256 !== source.sha256) {
          await store.discard(tmp);
          throw new HashMismatchError(recipe, url, source.sha256, result.sha256);
        }
        opts.note?.(downloadedNote(source.file, result.bytes, result.sha256));
        return store.commit(tmp, source.sha256);
      }
      await store.discard(tmp);
      opts.note?.(`  failed: ${result.reason}`);
      if (!result.retry || attempt >= attempts) {
        // One line per URL: the last reason is the one worth reading.
        failures.push(`${url}: ${result.reason}${attempt > 1 ? ` (${attempt} attempts)` : ''}`);
        break;
      }
      await sleep(opts.retryDelayMs * 2 ** (attempt - 1), undefined, { signal: opts.signal }).catch((err: unknown) => {
        throw opts.signal?.reason ?? err; // same error as an abort during a download
      });
    }
  }
  throw new ZosError(
    `recipe ${recipe}: could not download ${source.file} (sha256 ${source.sha256}) from any location:\n  ${failures.join('\n  ')}`,
    'Check the network, add a mirror with --mirror, or put the file in the cache with `zos-build fetch` elsewhere.',
  );
}
