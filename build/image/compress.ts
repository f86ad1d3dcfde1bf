import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../profile/types.js';
import { ZosError, errorMessage, hostToolError } from '../util/errors.js';
import { tempSibling } from '../util/fs.js';
import { cpioStream, type CpioEntry } from './cpio.js';

/**
 * Compresses the initramfs with the host's tool for the profile's format. Flags are pinned so the
 * output depends only on the input bytes: no names or timestamps in headers, one thread (xz and
 * zstd split work differently with more threads, which changes the bytes).
 */

export interface Compressor {
  tool: string;
  args: readonly string[];
  /** File extension, e.g. `xz` for `initramfs.cpio.xz`. */
  ext: string;
  /** Debian package that provides the tool, for the "not found" hint. */
  debianPackage: string;
}

export const COMPRESSORS: Readonly<Record<Compression, Compressor>> = {
  // The kernel's xz decoder only verifies CRC32 (or none), not xz's default CRC64.
  // A 16 MiB dictionary instead of -9's 64 MiB: the kernel allocates the dictionary while unpacking,
  // and small-memory machines should not pay 64 MiB for an image that is far smaller than that.
  xz: {
    tool: 'xz',
    args: ['--check=crc32', '--lzma2=preset=9,dict=16MiB', '--threads=1', '-c', '-q'],
    ext: 'xz',
    debianPackage: 'xz-utils',
  },
  // zstd writes no name or time; -T1 pins the single-threaded framing. Level 19: on the qemu image
  // (31 MB of cpio) it gains 1.4 MB over 12 for 8x the time (9.7 MB in 25 s vs 11.1 MB in 3 s), which
  // an edit-build-boot loop pays only for what it changed: each recipe's archive is cached with it
  // (image/pack.ts), so an agent edit recompresses the agent's 6 MB and an overlay edit a few KB.
  // The kernel allocates the 8 MiB window while unpacking; decompression speed does not depend on it.
  zstd: { tool: 'zstd', args: ['-19', '-T1', '-c', '-q', '--no-progress'], ext: 'zst', debianPackage: 'zstd' },
  // -n: no original name or mtime in the gzip header.
  gzip: { tool: 'gzip', args: ['-n', '-9', '-c'], ext: 'gz', debianPackage: 'gzip' },
  // The kernel's lz4 decoder reads only the legacy frame format (-l).
  lz4: { tool: 'lz4', args: ['-l', '-9', '-c', '-q'], ext: 'lz4', debianPackage: 'lz4' },
};

/** The initramfs file name for a compression, e.g. `initramfs.cpio.xz`. */
export function initramfsFileName(compression: Compression): string {
  return `initramfs.cpio.${COMPRESSORS[compression].ext}`;
}

/**
 * Pipes `input` through the compressor into `outFile` (written in place: callers wanting atomicity
 * pass a temp path). Rejects with a ZosError naming the tool if it is missing or fails.
 */
export async function compressStream(
  input: Readable,
  compression: Compression,
  outFile: string,
  signal?: AbortSignal,
): Promise<void> {
  const c = COMPRESSORS[compression];
  // The build's abort (Ctrl-C) kills the compressor: zstd -19 on a 6 MB layer would otherwise hold
  // the build's exit for many seconds.
  const child = spawn(c.tool, c.args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        hostToolError(`compressor ${c.tool}`, c.debianPackage, err) ??
          new ZosError(`cannot run compressor ${c.tool}: ${err.message}`),
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new ZosError(
            `compressor ${c.tool} ${c.args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`,
          ),
        );
    });
  });
  // Whichever side fails first, stop the other so nothing hangs on a full or closed pipe.
  const feed = pipeline(input, child.stdin).catch((err: unknown) => {
    child.kill();
    throw err;
  });
  const drain = pipeline(child.stdout, createWriteStream(outFile));
  const [ex, fe, dr] = await Promise.allSettled([exited, feed, drain]);
  // A bad entry in the input kills the tool: report the input's error, not the kill it caused.
  if (fe.status === 'rejected' && fe.reason instanceof ZosError) throw fe.reason;
  if (ex.status === 'rejected') throw ex.reason;
  if (fe.status === 'rejected') throw fe.reason;
  if (dr.status === 'rejected') throw new ZosError(`cannot write ${outFile}: ${errorMessage(dr.reason)}`);
}

export interface BuildInitramfsOptions {
  entries: readonly CpioEntry[];
  /** SOURCE_DATE_EPOCH, seconds. */
  epoch: number;
  compression: Compression;
  outFile: string;
  /** Stops the compressor (the build's abort). */
  signal?: AbortSignal;
}

export interface InitramfsResult {
  file: string;
  bytes: number;
}

/**
 * cpio → compressor → temp file → rename. The final name only ever holds a complete image, so an
 * interrupted or failed build cannot leave a truncated initramfs that later boots half-way.
 */
export async function buildInitramfs(opts: BuildInitramfsOptions): Promise<InitramfsResult> {
  await mkdir(dirname(opts.outFile), { recursive: true });
  const tmp = tempSibling(opts.outFile);
  try {
    await compressStream(cpioStream(opts.entries, { epoch: opts.epoch }), opts.compression, tmp, opts.signal);
    await rename(tmp, opts.outFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { file: opts.outFile, bytes: (await stat(opts.outFile)).size };
}
