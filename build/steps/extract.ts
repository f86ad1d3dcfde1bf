import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rmdir, symlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type * as Tar from 'tar';
import { ZosError, errorMessage } from '../util/errors.js';
import { rmrf, tempSibling } from '../util/fs.js';

/**
 * Unpacks a source archive (or a remote cache entry, see cache/pack.ts) into a fresh directory,
 * refusing archives that try to write outside it.
 *
 * node-tar already strips `..` and leading `/` from entries, but silently: a hostile or corrupt
 * archive would still half-extract into a tree we later build from and trust. Here every entry is
 * checked before node-tar sees it, the first bad one aborts the whole extraction with an error that
 * names it, and the output appears under its final name only when everything was extracted.
 */

/** An archive that would write outside its directory, or holds something we never extract. */
export class UnsafeArchiveError extends ZosError {
  constructor(
    readonly archive: string,
    readonly entry: string,
    readonly reason: string,
  ) {
    super(
      `unsafe archive ${archive}: entry ${JSON.stringify(entry)} ${reason}; nothing was extracted`,
      'Check that the archive and its sha256 come from the real upstream release.',
    );
  }
}

/** The subset of a tar entry the guard looks at (node-tar's ReadEntry has these). */
export interface TarEntryInfo {
  path: string;
  type: string;
  linkpath?: string;
}

const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);

/** Thrown by EntryGuard with the reason only; extractArchive adds the archive's name. */
export class UnsafeEntry extends Error {
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`entry ${JSON.stringify(entry)} ${reason}`);
  }
}

/**
 * Decides, entry by entry and in archive order, whether extracting is safe. It keeps a model of
 * what has been extracted so far (which paths are symlinks, which are regular files), because the
 * dangerous cases depend on earlier entries: `link -> /etc` followed by `link/passwd`.
 *
 * Path stripping mirrors node-tar's `strip` exactly (split on `/`, drop the first N parts), so the
 * guard reasons about the same paths node-tar writes.
 */
export class EntryGuard {
  private readonly symlinks = new Map<string, string>();
  private readonly files = new Set<string>();
  /** Symlinks pointing outside the tree: not given to node-tar, created after it is done. */
  readonly deferred: { path: string; target: string }[] = [];

  constructor(private readonly strip = 0) {}

  /**
   * The path relative to the destination, or null for an entry node-tar must skip: one above the
   * strip depth, or a symlink pointing out of the tree (kept in `deferred` instead).
   */
  check(e: TarEntryInfo): string | null {
    const bad: (reason: string) => never = (reason) => {
      throw new UnsafeEntry(e.path, reason);
    };
    checkRawPath(e.path, 'path', bad);
    if (e.type === 'CharacterDevice' || e.type === 'BlockDevice') bad('is a device node');
    if (e.type === 'FIFO') bad('is a FIFO');
    if (!REGULAR.has(e.type) && e.type !== 'Directory' && e.type !== 'SymbolicLink' && e.type !== 'Link') {
      bad(`has unsupported type ${e.type}`);
    }

    const rel = this.stripped(e.path);
    // Entries at or above the strip depth (the top directory itself, stray top-level files) are
    // skipped, as node-tar and GNU tar's --strip-components do.
    if (rel === null || rel === '') return null;
    this.checkParents(rel, bad);
    if (this.symlinks.has(rel)) bad(`replaces the symlink ${rel} extracted earlier`);

    if (e.type === 'Link') {
      const raw = e.linkpath ?? '';
      checkRawPath(raw, 'hard link target', bad);
      const target = this.stripped(raw);
      if (target === null || target === '') bad(`is a hard link to ${JSON.stringify(raw)}, outside the extracted tree`);
      this.checkParents(target, (r) => bad(`is a hard link whose target ${r}`));
      if (!this.files.has(target))
        bad(`is a hard link to ${JSON.stringify(raw)}, which is not a file extracted earlier`);
      this.files.add(rel);
    } else if (e.type === 'SymbolicLink') {
      // The link itself is harmless wherever it points; writing through it is what escapes, and
      // checkParents refuses that for every later entry.
      const target = e.linkpath ?? '';
      if (target === '') bad('is a symlink with an empty target');
      this.symlinks.set(rel, target);
      this.files.delete(rel);
      if (posix.isAbsolute(target) || escapes(posix.join(posix.dirname(rel), target))) {
        // node-tar would rewrite `/usr/share/x` to `usr/share/x` (or refuse it); real tarballs do
        // hold such links (automake's INSTALL -> /usr/share/...), so create them verbatim ourselves.
        this.deferred.push({ path: rel, target });
        return null;
      }
    } else if (REGULAR.has(e.type)) {
      this.files.add(rel);
    } else {
      this.files.delete(rel);
    }
    return rel;
  }

  private stripped(raw: string): string | null {
    const parts = raw.split('/');
    if (parts.length < this.strip) return null;
    return parts
      .slice(this.strip)
      .filter((c) => c !== '' && c !== '.')
      .join('/');
  }

  private checkParents(rel: string, bad: (reason: string) => never): void {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const target = this.symlinks.get(prefix);
      if (target !== undefined) bad(`is written through the symlink ${prefix} -> ${target}`);
      if (this.files.has(prefix)) bad(`is written below the file ${prefix}`);
    }
  }
}

function escapes(normalized: string): boolean {
  const n = posix.normalize(normalized);
  return n === '..' || n.startsWith('../');
}

function checkRawPath(p: string, what: string, bad: (reason: string) => never): void {
  if (p === '') bad(`has an empty ${what}`);
  if (p.includes('\0')) bad(`has a NUL byte in its ${what}`);
  if (posix.isAbsolute(p)) bad(`has an absolute ${what} ${JSON.stringify(p)}`);
  if (p.split('/').includes('..')) bad(`has a ".." component in its ${what} ${JSON.stringify(p)}`);
}

/** How to turn an archive file into a tar stream. null: node-tar reads it directly (tar, gzip). */
function decompressorFor(archive: string): { tool: string; pkg: string } | null {
  if (/\.(tar\.gz|tgz|tar)$/.test(archive)) return null;
  if (/\.(tar\.xz|txz)$/.test(archive)) return { tool: 'xz', pkg: 'xz-utils' };
  if (/\.(tar\.bz2|tbz2|tbz)$/.test(archive)) return { tool: 'bzip2', pkg: 'bzip2' };
  if (/\.(tar\.zst|tzst)$/.test(archive)) return { tool: 'zstd', pkg: 'zstd' };
  throw new ZosError(
    `cannot extract ${archive}: unknown archive type`,
    'Supported: .tar, .tar.gz/.tgz, .tar.xz/.txz, .tar.bz2/.tbz2, .tar.zst.',
  );
}

export interface ExtractOptions {
  /** Leading path components to drop, like tar's --strip-components (usually 1: `pkg-1.0/`). */
  stripComponents?: number;
  /** File name that tells the archive's format when `archive` has none (the download cache names files by sha256). */
  name?: string;
  /** The build's abort signal: extraction stops (and cleans up) when it fires, with its reason. */
  signal?: AbortSignal;
}

/**
 * Extracts `archive` into `destDir`, which must not exist or be empty. Exec bits are kept, owners
 * are not (everything belongs to the user running the build), mtimes are restored as stored so
 * that autotools-generated files stay newer than their inputs and make does not try to regenerate
 * them. On any failure destDir is left as it was.
 */
export async function extractArchive(archive: string, destDir: string, opts: ExtractOptions = {}): Promise<void> {
  const strip = opts.stripComponents ?? 0;
  const decompressor = decompressorFor(opts.name ?? archive);
  const existing = await readdir(destDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (existing && existing.length > 0) {
    throw new ZosError(`cannot extract ${archive}: destination ${destDir} exists and is not empty`);
  }

  await mkdir(dirname(destDir), { recursive: true });
  const tmp = tempSibling(destDir);
  await mkdir(tmp);
  try {
    await unpackGuarded(archive, tmp, { strip, decompressor, keepMtimes: true, signal: opts.signal });
    if (existing) await rmdir(destDir);
    await rename(tmp, destDir);
  } catch (err) {
    await rmrf(tmp);
    throw err;
  }
}

/**
 * Unpacks `archive` into the existing directory `cwd`, every entry checked by one EntryGuard first:
 * the one safe way to extract an untrusted tar, used for source archives here and for remote cache
 * entries (cache/pack.ts). `keepMtimes: false` stamps files with "now" instead of the stored times.
 */
export async function unpackGuarded(
  archive: string,
  cwd: string,
  opts: {
    strip: number;
    decompressor: { tool: string; pkg: string } | null;
    keepMtimes: boolean;
    signal?: AbortSignal;
  },
): Promise<void> {
  const { strip, decompressor, signal } = opts;
  signal?.throwIfAborted();
  // node-tar is loaded when a recipe is actually built, not by every command that plans a build.
  const tar = await import('tar');
  const guard = new EntryGuard(strip);
  let rejected: UnsafeArchiveError | undefined;
  // `strict` turns node-tar's own warnings (its path checks, symlink checks, a corrupt archive)
  // into errors too, so nothing it would silently skip goes unnoticed.
  const unpack = new tar.Unpack({
    cwd,
    strip,
    strict: true,
    preserveOwner: false,
    noMtime: !opts.keepMtimes,
    filter: (_path, entry) => {
      if (rejected) return false;
      try {
        return guard.check(entry as Tar.ReadEntry) !== null;
      } catch (err) {
        if (!(err instanceof UnsafeEntry)) throw err;
        rejected = new UnsafeArchiveError(archive, err.entry, err.reason);
        unpack.abort(rejected);
        return false;
      }
    },
  });

  let child: ChildProcess | undefined;
  let source: Readable;
  const waits: Promise<void>[] = [];
  if (decompressor) {
    const c = spawn(decompressor.tool, ['-dc', archive], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let stderr = '';
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    waits.push(
      new Promise<void>((resolve, reject) => {
        c.on('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'ENOENT'
              ? new ZosError(
                  `cannot extract ${archive}: ${decompressor.tool} not found`,
                  `Install the Debian package ${decompressor.pkg}.`,
                )
              : err,
          ),
        );
        c.on('close', (code, signal) =>
          code === 0
            ? resolve()
            : reject(
                new ZosError(
                  `cannot extract ${archive}: ${decompressor.tool} -dc failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`,
                ),
              ),
        );
      }),
    );
    source = c.stdout!;
  } else {
    source = createReadStream(archive);
  }

  waits.push(
    new Promise<void>((resolve, reject) => {
      source.on('error', (err) => reject(new ZosError(`cannot read ${archive}: ${err.message}`)));
      unpack.on('error', reject);
      unpack.on('close', () => resolve());
    }),
  );
  source.pipe(unpack as unknown as NodeJS.WritableStream);

  // An interrupted build stops a long extraction (the kernel's takes minutes) instead of finishing it,
  // the way a refused entry stops it: node-tar is aborted and fails, which ends the waits below.
  const onAbort = () => unpack.abort(signal!.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    // Any one failing is enough; Promise.all rejects on the first.
    await Promise.all(waits);
    for (const link of guard.deferred) {
      // Parents were checked to be real directories (never symlinks) by the guard.
      await mkdir(join(cwd, posix.dirname(link.path)), { recursive: true });
      await symlink(link.target, join(cwd, link.path));
    }
  } catch (err) {
    source.unpipe();
    source.destroy();
    child?.kill();
    // Let the other side settle so no write lands in the temp dir after it is removed. An aborted
    // node-tar may never emit 'close', hence the bound.
    await Promise.race([Promise.allSettled(waits), new Promise((r) => setTimeout(r, 2000).unref())]);
    if (rejected) throw rejected;
    if (signal?.aborted) throw signal.reason;
    throw toZosError(archive, err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** node-tar errors carry the entry they are about; say which one. */
function toZosError(archive: string, err: unknown): Error {
  if (err instanceof ZosError) return err;
  const e = err as { entry?: { path?: string }; tarCode?: string; path?: string };
  const where = e.entry?.path ?? e.path;
  return new ZosError(
    `cannot extract ${archive}${where ? ` at entry ${JSON.stringify(where)}` : ''}: ${errorMessage(err)}`,
  );
}
