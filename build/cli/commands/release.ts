import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { outputFingerprint, readManifest } from '../../publish/out-dir.js';
import { assembleRelease, releasePrefix, SHA256SUMS_ASC } from '../../release/release.js';
import type { RecipeDetails } from '../../release/sbom.js';
import { DEFAULT_DEBIAN_ARCHIVE } from '../../release/sources.js';
import { ZosError } from '../../util/errors.js';
import { gpgSigner, withCommonOptions, withGpgOptions, type GpgArgs } from '../options.js';
import { fingerprints, openSession, type CommonArgs } from '../session.js';

interface ReleaseArgs extends CommonArgs, GpgArgs {
  dest: string;
  allowStale: boolean;
  netbootGpgKey?: string;
}

const command: CommandModule<object, ReleaseArgs> = {
  command: 'release',
  describe:
    'copy a built profile into a release directory: versioned artifacts, manifest, SPDX SBOM, legal-info, SHA256SUMS',
  builder: (y) =>
    withGpgOptions(withCommonOptions(y), 'sign SHA256SUMS with this secret key (fingerprint or id; env ZOS_GPG_KEY)')
      .option('netboot-gpg-key', {
        type: 'string',
        describe:
          'sign netboot/ kernel and initramfs with this key (default: --gpg-key); needed for --netboot-verify-key builds',
      })
      .option('dest', {
        alias: 'd',
        type: 'string',
        demandOption: true,
        describe: 'release directory (one per version; several profiles may go in it)',
      })
      .option('allow-stale', {
        type: 'boolean',
        default: false,
        describe: 'release <out>/<profile>/ even if it was not built from the current tree',
      }) as never,
  async handler(argv) {
    const s = await openSession(argv);
    const manifest = await readManifest(s.outDir);
    if (!manifest)
      throw new ZosError(
        `release: ${s.outDir}/manifest.json is missing or unreadable`,
        `Build first: zos-build build --profile ${s.profile.name}`,
      );
    if (!argv.allowStale) {
      const current = outputFingerprint(s.plan, await fingerprints(s), s.identity.commit);
      if (manifest.fingerprint !== current || manifest.version !== s.identity.version) {
        throw new ZosError(
          `release: ${s.outDir} is not the build of the current tree (it is zos ${manifest.version}, fingerprint ${manifest.fingerprint.slice(0, 12)}; now ${s.identity.version}, ${current.slice(0, 12)})`,
          `Rebuild it: zos-build build --profile ${s.profile.name}${argv.out !== 'out' ? ` --out ${argv.out}` : ''}`,
        );
      }
    }
    const details: Record<string, RecipeDetails> = {};
    for (const r of s.recipes.values()) details[r.name] = { description: r.description, homepage: r.homepage };
    const dest = resolve(argv.dest);
    const result = await assembleRelease({
      manifest,
      outDir: s.outDir,
      dest,
      // Public documents name the public archive, not the mirror this host happens to use.
      debianArchive: argv.debianMirror ?? DEFAULT_DEBIAN_ARCHIVE,
      details,
      signer: gpgSigner(argv),
      netbootSigner: gpgSigner(argv, argv.netbootGpgKey),
    });
    console.log(`zos ${manifest.version} (${manifest.profile}) -> ${dest}`);
    for (const f of result.files.filter((f) => f.startsWith(releasePrefix(manifest)) && !f.includes('/')))
      console.log(`  ${f}`);
    console.log(`  legal-info/ (${manifest.recipes.length} components), SHA256SUMS (${result.checksummed} files)`);
    if (result.files.includes(SHA256SUMS_ASC)) console.log(`  ${SHA256SUMS_ASC} (key ${argv.gpgKey})`);
  },
};
export default command;
