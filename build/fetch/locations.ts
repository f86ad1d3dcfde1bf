import type { Source } from '../recipe/types.js';

export interface LocationOptions {
  /** User mirrors (Buildroot's primary site): `<mirror>/<file>` is tried before anything else. */
  mirrors: string[];
  /** Base URL that `debian:` locations resolve against. */
  debianArchive: string;
}

/** The URLs to try for a source, in order. */
export function candidateUrls(source: Source, opts: LocationOptions): string[] {
  const urls = opts.mirrors.map((m) => `${m.replace(/\/$/, '')}/${source.file}`);
  for (const loc of source.locations) {
    urls.push(loc.startsWith('debian:') ? `${opts.debianArchive}/${loc.slice('debian:'.length)}` : loc);
  }
  return [...new Set(urls)];
}
