import type { Source, SourceKind } from './types.js';

const VERSION_VAR = /\$\{version\}/g;

/** A source with `${version}` in its file name and locations replaced by the recipe's version. */
export function expandSource(source: Source, version: string): Source {
  if (!source || typeof source !== 'object') return source;
  const sub = (v: unknown): unknown => (typeof v === 'string' ? v.replace(VERSION_VAR, version) : v);
  return {
    ...source,
    file: sub(source.file) as string,
    locations: Array.isArray(source.locations) ? source.locations.map(sub as (l: string) => string) : source.locations,
  };
}

/** How a source is unpacked; `extract: false` is the older spelling of `kind: 'file'`. */
export function sourceKind(source: Source): SourceKind {
  return source.kind ?? (source.extract === false ? 'file' : 'archive');
}

export const SOURCE_KINDS: readonly SourceKind[] = ['archive', 'file', 'deb'];

/** Debian's security archive: a package fixed by a security update is in its pool, not the main one. */
export const DEBIAN_SECURITY = 'https://deb.debian.org/debian-security';

/**
 * A pinned Debian binary package as a `deb` source. `poolPath` is its path in the archive
 * (`pool/main/n/nftables/nftables_1.0.6-2+deb12u2_amd64.deb`), fetched from the archive apt uses (or
 * `archive`, e.g. DEBIAN_SECURITY) and, once the pool has moved on, from snapshot.debian.org by the
 * file's sha1. The cache file name is the package's, with `~` (which the validator refuses) as `-`.
 */
export function debianPackage(poolPath: string, sha256: string, snapshotSha1: string, archive?: string): Source {
  return {
    kind: 'deb',
    file: poolPath.slice(poolPath.lastIndexOf('/') + 1).replace(/~/g, '-'),
    sha256,
    locations: [
      archive ? `${archive}/${poolPath}` : `debian:${poolPath}`,
      `https://snapshot.debian.org/file/${snapshotSha1}`,
    ],
  };
}
