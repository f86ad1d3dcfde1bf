import type { Manifest } from '../publish/out-dir.js';

/** Where `debian:` locations resolve when the caller names no archive (the public redirector). */
export const DEFAULT_DEBIAN_ARCHIVE = 'https://deb.debian.org/debian';

export type ManifestRecipe = Manifest['recipes'][number];
export type ManifestSource = ManifestRecipe['sources'][number];

/** A recipe location as a plain URL: `debian:pool/...` is resolved against the Debian archive. */
export function resolveLocation(location: string, debianArchive = DEFAULT_DEBIAN_ARCHIVE): string {
  if (!location.startsWith('debian:')) return location;
  return `${debianArchive.replace(/\/+$/, '')}/${location.slice('debian:'.length).replace(/^\/+/, '')}`;
}

/**
 * The URL a reader should download a source from: the first upstream http(s) URL, else the first
 * location resolved; undefined for a source with no location at all.
 */
export function primaryUrl(source: ManifestSource, debianArchive?: string): string | undefined {
  const upstream = source.urls.find((u) => /^https?:\/\//.test(u));
  if (upstream) return upstream;
  const first = source.urls[0];
  return first === undefined ? undefined : resolveLocation(first, debianArchive);
}

/** The Debian source package a `debian:pool/<area>/<x>/<package>/<file>` location names. */
export function debianSourcePackage(location: string): string | undefined {
  const m = /^debian:\/*pool\/[^/]+\/[^/]+\/([^/]+)\//.exec(location);
  return m?.[1];
}
