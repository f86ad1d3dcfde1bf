import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const FALLBACK_ARCHIVE = 'https://deb.debian.org/debian';

/**
 * The Debian archive base URL the host's apt already uses (deb822 `.sources` files first, then the
 * one-line `sources.list`), so `debian:` locations go where this machine is allowed to go.
 */
export async function hostDebianArchive(aptDir = '/etc/apt'): Promise<string> {
  const candidates: string[] = [];
  const partsDir = join(aptDir, 'sources.list.d');
  const parts = (await readdir(partsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.sources')).sort();
  for (const f of parts) {
    const text = await readFile(join(partsDir, f), 'utf8').catch(() => '');
    for (const m of text.matchAll(/^URIs:\s*(.+)$/gm)) candidates.push(...m[1]!.trim().split(/\s+/));
  }
  const list = await readFile(join(aptDir, 'sources.list'), 'utf8').catch(() => '');
  for (const m of list.matchAll(/^deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) candidates.push(m[1]!);
  // The main archive, not the security one: pool/ paths of ordinary releases live there.
  const main = candidates.find((u) => /^https?:\/\//.test(u) && !/security/.test(u) && /\/debian\/?$/.test(u));
  return (main ?? FALLBACK_ARCHIVE).replace(/\/$/, '');
}
