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
