import type { Source } from '../recipe/types.js';

export interface LocationOptions {
  /** User mirrors (Buildroot's primary site): `<mirror>/<file>` is tried before anything else. */
  mirrors: string[];
  /** Base URL that `debian:` locations resolve against. */
  debianArchive: string;
}

const trimEnd = (s: string) => s.replace(/\/+$/, '');
const trimStart = (s: string) => s.replace(/^\/+/, '');

/** The URLs to try for a source, in order: mirrors, then the recipe's locations; duplicates dropped. */
export function candidateUrls(source: Source, opts: LocationOptions): string[] {
  const urls = opts.mirrors.map((m) => `${trimEnd(m)}/${source.file}`);
  for (const loc of source.locations) {
    urls.push(
      loc.startsWith('debian:') ? `${trimEnd(opts.debianArchive)}/${trimStart(loc.slice('debian:'.length))}` : loc,
    );
  }
  return [...new Set(urls)];
}
