import { copyFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { STEP_META_DIR } from '../graph/types.js';
import type { Plan } from '../plan/plan.js';
import type { Profile } from '../profile/types.js';
import { cpeName } from '../recipe/cpe.js';
import { recipeStepId } from '../recipe/step.js';
import { exists, listFiles, rmrf, tempSibling, writeFileAtomic } from '../util/fs.js';
import { sha256File, sha256Json } from '../util/hash.js';
import type { BuildIdentity } from '../version.js';

export interface Manifest {
  name: 'zos-build';
  version: string;
  commit: string;
  profile: string;
  sourceDateEpoch: number;
  /** The kernel command line the boot artifacts carry. */
  cmdline: string;
  /** Hash of the fingerprints of everything below: equal means out/<profile>/ is up to date. */
  fingerprint: string;
  /** `recipe`: the recipe that provides the kernel role. */
  kernel: { recipe: string; version: string; release: string; configSha256: string };
  recipes: Array<{
    name: string;
    version: string;
    license: string;
    /** CPE 2.3 name, for recipes that state theirs (build/recipe/cpe.ts). */
    cpe?: string;
    sources: Array<{ file: string; sha256: string; urls: string[] }>;
  }>;
  artifacts: Array<{ file: string; size: number; sha256: string }>;
  /** Only in a signed build: the certificate its EFI binaries are signed for (docs/secure-boot.md). */
  secureBoot?: { certSha256: string; subject: string };
}

/** Bump when what publish writes changes, so existing out dirs are rewritten. */
const PUBLISH_FORMAT = 4;

/** The commit is in: manifest.json names it, so a new commit (even with a pinned version) republishes. */
export function outputFingerprint(plan: Plan, fingerprints: ReadonlyMap<string, string>, commit: string): string {
  return sha256Json({ format: PUBLISH_FORMAT, commit, steps: plan.finals.map((id) => [id, fingerprints.get(id)]) });
}

export async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

export interface PublishInput {
  dir: string;
  profile: Profile;
  plan: Plan;
  identity: BuildIdentity;
  fingerprints: ReadonlyMap<string, string>;
  outputs: ReadonlyMap<string, string>;
  cmdline: string;
  /** The signing certificate of a signed build (public facts only; never the key). */
  secureBoot?: Manifest['secureBoot'];
  /** Writes more files into the directory being published (report.html), after manifest.json. */
  extras?: (dir: string, manifest: Manifest) => Promise<void>;
}

/**
 * Materialises out/<profile>/ from cached step outputs: copies (never hard links: editing a file in
 * out/ must not poison the cache), writes manifest.json, and swaps the directory in with renames,
 * so readers see the old complete tree or the new one.
 */
export async function publish(input: PublishInput): Promise<Manifest> {
  const tmp = tempSibling(input.dir);
  await mkdir(tmp, { recursive: true });
  try {
    const kernelStep = recipeStepId(input.plan.roles.kernel);
    const kernelOut = input.outputs.get(kernelStep)!;
    const copies: Array<[string, string]> = [
      [join(kernelOut, 'boot/vmlinuz'), 'vmlinuz'],
      [join(kernelOut, 'export/kernel.config'), 'kernel.config'],
    ];
    for (const id of input.plan.finals.filter((f) => f !== kernelStep)) {
      const dir = input.outputs.get(id)!;
      // meta/: what a step records about its output for the build itself (e.g. the report), not an artifact.
      for (const f of await listFiles(dir)) if (!f.startsWith(`${STEP_META_DIR}/`)) copies.push([join(dir, f), f]);
    }
    // License texts of every component, gathered by each recipe step (see collectLicenses).
    for (const name of [...input.plan.recipes.keys()].sort()) {
      const legal = join(input.outputs.get(recipeStepId(name))!, 'legal');
      if (await exists(legal)) for (const f of await listFiles(legal)) copies.push([join(legal, f), join('legal', f)]);
    }
    // Copied and hashed side by side: the hashing of one file overlaps the copying of the next.
    const artifacts: Manifest['artifacts'] = (
      await Promise.all(
        copies.map(async ([src, rel]) => {
          const dest = join(tmp, rel);
          await mkdir(join(dest, '..'), { recursive: true });
          await copyFile(src, dest, constants.COPYFILE_FICLONE);
          // License texts ship with the image but are not boot artifacts (they go to legal-info in releases).
          if (rel.startsWith('legal/')) return undefined;
          return { file: rel, size: (await stat(dest)).size, sha256: await sha256File(dest) };
        }),
      )
    ).filter((a) => a !== undefined);
    artifacts.sort((a, b) => (a.file < b.file ? -1 : 1));
    const kernel = input.plan.recipes.get(input.plan.roles.kernel)!;
    const manifest: Manifest = {
      name: 'zos-build',
      version: input.identity.version,
      commit: input.identity.commit,
      profile: input.profile.name,
      sourceDateEpoch: input.identity.epoch,
      cmdline: input.cmdline,
      fingerprint: outputFingerprint(input.plan, input.fingerprints, input.identity.commit),
      kernel: {
        recipe: kernel.name,
        version: kernel.version,
        release: (await readFile(join(kernelOut, 'export/kernel.release'), 'utf8')).trim(),
        configSha256: await sha256File(join(kernelOut, 'export/kernel.config')),
      },
      recipes: [...input.plan.recipes.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((r) => ({
          name: r.name,
          version: r.version,
          license: r.license,
          ...(r.cpe ? { cpe: cpeName(r) } : {}),
          sources: r.sources.map((s) => ({ file: s.file, sha256: s.sha256, urls: s.locations })),
        })),
      artifacts,
      ...(input.secureBoot ? { secureBoot: input.secureBoot } : {}),
    };
    await writeFileAtomic(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await input.extras?.(tmp, manifest);
    const old = (await exists(input.dir)) ? tempSibling(input.dir) : undefined;
    if (old) await rename(input.dir, old);
    await rename(tmp, input.dir);
    if (old) await rmrf(old);
    return manifest;
  } catch (err) {
    await rmrf(tmp);
    throw err;
  }
}
