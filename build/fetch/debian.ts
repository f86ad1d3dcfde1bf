import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const FALLBACK_DEBIAN_ARCHIVE = 'https://deb.debian.org/debian';

/** URIs of enabled `deb`/`deb-src` entries in a deb822 `.sources` file, in order. */
export function deb822Uris(text: string): string[] {
  const uris: string[] = [];
  // Stanzas are separated by blank lines; field names are case-insensitive; `#` starts a comment line.
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    // A line starting with white space continues the previous field's value.
    const lines = stanza
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n')
      .replace(/\n[ \t]+/g, ' ')
      .split('\n');
    const field = (name: string) =>
      lines.map((l) => new RegExp(`^${name}:\\s*(.*)$`, 'i').exec(l)?.[1]?.trim()).find((v) => v !== undefined);
    if (/^(no|false|0)$/i.test(field('Enabled') ?? '')) continue;
    const types = (field('Types') ?? '').split(/\s+/);
    if (!types.includes('deb') && !types.includes('deb-src')) continue;
    uris.push(...(field('URIs') ?? '').split(/\s+/).filter(Boolean));
  }
  return uris;
}

/** URIs of `deb`/`deb-src` lines of a one-line-style `sources.list`, in order. */
export function sourcesListUris(text: string): string[] {
  return [...text.matchAll(/^[ \t]*deb(?:-src)?[ \t]+(?:\[[^\]]*\][ \t]+)?(\S+)/gm)].map((m) => m[1]!);
}

/**
 * Whether `uri` is a Debian main archive (where `pool/` holds ordinary releases): its path ends in
 * `/debian`, or it is a snapshot.debian.org-style `/archive/debian/<timestamp>`. The security
 * archive (`/debian-security`) and other distributions' archives don't qualify.
 */
function isMainArchive(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const path = url.pathname.replace(/\/+$/, '');
  return /\/debian$/.test(path) || /\/archive\/debian\/\d{8}T\d{6}Z$/.test(path);
}

/**
 * The Debian archive base URL the host's apt already uses (deb822 `.sources` files first, then the
 * one-line `sources.list` and `sources.list.d/*.list`), so `debian:` locations go where this machine
 * is allowed to go (a local mirror or proxy). Falls back to deb.debian.org. No trailing slash.
 */
export async function hostDebianArchive(aptDir = '/etc/apt'): Promise<string> {
  const candidates: string[] = [];
  const partsDir = join(aptDir, 'sources.list.d');
  const parts = (await readdir(partsDir).catch(() => [] as string[])).sort();
  const read = (path: string) => readFile(path, 'utf8').catch(() => '');
  for (const f of parts.filter((f) => f.endsWith('.sources')))
    candidates.push(...deb822Uris(await read(join(partsDir, f))));
  candidates.push(...sourcesListUris(await read(join(aptDir, 'sources.list'))));
  for (const f of parts.filter((f) => f.endsWith('.list')))
    candidates.push(...sourcesListUris(await read(join(partsDir, f))));
  const main = candidates.find(isMainArchive);
  return (main ?? FALLBACK_DEBIAN_ARCHIVE).replace(/\/+$/, '');
}
