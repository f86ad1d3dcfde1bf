import { join } from 'node:path';
import { ZosError } from '../util/errors.js';
import { listFiles, tempOwner, writeFileAtomic } from '../util/fs.js';
import { sha256File } from '../util/hash.js';

export const SHA256SUMS = 'SHA256SUMS';

export interface ChecksumEntry {
  /** `/`-separated path relative to the directory the list is checked from. */
  file: string;
  sha256: string;
}

/** Bytewise order of UTF-8 paths, as `LC_ALL=C sort` orders them. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The text `sha256sum` prints and `sha256sum -c` reads: `<hex>  <path>` (two spaces: text mode),
 * one line per file, sorted bytewise by path. Paths sha256sum would have to escape (backslash,
 * newline, carriage return) are refused rather than written in a form other tools misread.
 */
export function formatSha256Sums(entries: readonly ChecksumEntry[]): string {
  const sorted = [...entries].sort((a, b) => byBytes(a.file, b.file));
  for (const [i, e] of sorted.entries()) {
    if (!/^[0-9a-f]{64}$/.test(e.sha256))
      throw new ZosError(`SHA256SUMS: ${e.file}: "${e.sha256}" is not a lower-case sha256`);
    if (/[\\\n\r]/.test(e.file) || e.file === '')
      throw new ZosError(`SHA256SUMS: cannot list ${JSON.stringify(e.file)}: empty or contains \\, CR or LF`);
    if (i > 0 && sorted[i - 1]!.file === e.file) throw new ZosError(`SHA256SUMS: ${e.file} listed twice`);
  }
  return sorted.map((e) => `${e.sha256}  ${e.file}\n`).join('');
}

/** Parses SHA256SUMS text (text or binary mode lines); the inverse of formatSha256Sums. */
export function parseSha256Sums(text: string): ChecksumEntry[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((line, i) => {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (!m) throw new ZosError(`SHA256SUMS line ${i + 1} is malformed: ${JSON.stringify(line)}`);
      return { sha256: m[1]!, file: m[2]! };
    });
}

/**
 * Writes `<dir>/SHA256SUMS` listing every file below `dir` (itself excepted, and any path in
 * `exclude`). Returns the entries written.
 */
export async function writeSha256Sums(
  dir: string,
  opts: { exclude?: readonly string[] } = {},
): Promise<ChecksumEntry[]> {
  const skip = new Set([SHA256SUMS, ...(opts.exclude ?? [])]);
  const entries: ChecksumEntry[] = [];
  for (const file of await listFiles(dir)) {
    if (skip.has(file) || tempOwner(file)) continue;
    entries.push({ file, sha256: await sha256File(join(dir, file)) });
  }
  await writeFileAtomic(join(dir, SHA256SUMS), formatSha256Sums(entries));
  return entries;
}
