import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Manifest } from '../publish/out-dir.js';
import { ZosError } from '../util/errors.js';
import { exists, listFiles, writeFileAtomic } from '../util/fs.js';
import { primaryUrl, type ManifestRecipe } from './sources.js';

/**
 * The legal-info of a release (what Buildroot's `make legal-info` gives): the license texts of every
 * component in the image, `legal-info/<recipe>-<version>/<license files>`, and
 * `legal-info/manifest.csv` listing each component's license, sources and their sha256.
 *
 * The texts come from `<outDir>/legal/<recipe>/`, which the build fills from each recipe's
 * `licenseFiles` (taken from the recipe's own source tree).
 */

export const LEGAL_INFO = 'legal-info';

export interface LegalEntry {
  recipe: string;
  version: string;
  license: string;
  /** Paths relative to the release directory. */
  files: string[];
}

export function legalDirName(r: { name: string; version: string }): string {
  return `${r.name}-${r.version}`;
}

/**
 * Copies the license texts of every recipe of `manifest` from `<outDir>/legal/<recipe>/` into
 * `<releaseDir>/legal-info/<recipe>-<version>/`. A directory already there (another profile of the
 * same release) must hold the same texts. Fails naming the recipe whose texts are missing.
 */
export async function copyLicenseTexts(manifest: Manifest, outDir: string, releaseDir: string): Promise<LegalEntry[]> {
  const entries: LegalEntry[] = [];
  for (const r of [...manifest.recipes].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const src = join(outDir, 'legal', r.name);
    let files: string[] = [];
    if (await exists(src)) files = await listFiles(src);
    if (files.length === 0) {
      throw new ZosError(
        `legal-info: no license text for recipe ${r.name} ${r.version} (${r.license}): ${src} is missing or empty`,
        `The build copies each recipe's licenseFiles to ${join(outDir, 'legal')}/<recipe>/: check that recipes/${r.name}/recipe.ts lists licenseFiles that exist in its source tree, then rebuild the profile.`,
      );
    }
    const destDir = join(releaseDir, LEGAL_INFO, legalDirName(r));
    const out: string[] = [];
    for (const f of files) {
      const from = join(src, f);
      const to = join(destDir, f);
      if (await exists(to)) {
        const [a, b] = await Promise.all([readFile(from), readFile(to)]);
        if (!a.equals(b)) {
          throw new ZosError(
            `legal-info: ${to} already exists with a different text than ${from}`,
            'Two profiles of one release disagree on a license text: use a fresh release directory.',
          );
        }
      } else {
        await mkdir(dirname(to), { recursive: true });
        await copyFile(from, to);
      }
      out.push(`${LEGAL_INFO}/${legalDirName(r)}/${f}`);
    }
    entries.push({ recipe: r.name, version: r.version, license: r.license, files: out });
  }
  return entries;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const LEGAL_CSV_HEADER = ['recipe', 'version', 'license', 'source', 'sha256'] as const;

/**
 * `legal-info/manifest.csv`: one row per source of each distinct recipe+version of the manifests
 * (recipes built from this repository get one row naming the commit), sorted.
 */
export function legalCsv(manifests: readonly Manifest[], opts: { debianArchive?: string } = {}): string {
  const rows = new Map<string, string[]>();
  for (const m of manifests) {
    for (const r of m.recipes as ManifestRecipe[]) {
      const sources = r.sources.length
        ? r.sources.map((s) => [r.name, r.version, r.license, primaryUrl(s, opts.debianArchive) ?? s.file, s.sha256])
        : [[r.name, r.version, r.license, `zos-build@${m.commit}`, '']];
      for (const row of sources) rows.set(JSON.stringify(row), row);
    }
  }
  const body = [...rows.values()].sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return 0;
  });
  return [LEGAL_CSV_HEADER as readonly string[], ...body].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

export async function writeLegalCsv(
  releaseDir: string,
  manifests: readonly Manifest[],
  opts: { debianArchive?: string } = {},
): Promise<string> {
  const file = join(releaseDir, LEGAL_INFO, 'manifest.csv');
  await writeFileAtomic(file, legalCsv(manifests, opts));
  return file;
}

/** Total size of the license texts, for the summary line. */
export async function legalBytes(entries: readonly LegalEntry[], releaseDir: string): Promise<number> {
  let n = 0;
  for (const e of entries) for (const f of e.files) n += (await stat(join(releaseDir, f))).size;
  return n;
}
