import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Manifest } from '../publish/out-dir.js';
import { ZosError } from '../util/errors.js';
import { exists, writeFileAtomic } from '../util/fs.js';
import { sha256File } from '../util/hash.js';
import { SHA256SUMS, writeSha256Sums } from './checksums.js';
import { copyLicenseTexts, LEGAL_INFO, writeLegalCsv } from './legal.js';
import { sbomJson, spdxSbom, type RecipeDetails } from './sbom.js';
import { gpgDetachSign, signNetboot, type GpgSigner } from './sign.js';
import { NETBOOT_PUBKEY } from '../artifacts/netboot-verify.js';

/**
 * A release directory, one per version, holding one or more profiles:
 *
 *   zos-<version>-<profile>.efi, .iso, -usb.img, -vmlinuz, ...   the artifacts, renamed
 *   zos-<version>-<profile>-netboot/                              artifact folders, names kept inside
 *   zos-<version>-<profile>-netboot.tar.gz                        the same folder as one asset
 *   zos-<version>-<profile>.manifest.json                         out/<profile>/manifest.json
 *   zos-<version>-<profile>.spdx.json                             SPDX 2.3 SBOM
 *   legal-info/<recipe>-<version>/..., legal-info/manifest.csv    license texts of every component
 *   zos-<version>-legal-info.tar.gz                               the same folder as one asset
 *   SHA256SUMS                                                    every file above (sha256sum -c)
 *   SHA256SUMS.asc                                                its OpenPGP signature (with a signer)
 *
 * A netboot folder built with --netboot-verify-key gets its vmlinuz.sig and initramfs.cpio.*.sig
 * before it is packed and checksummed; the release refuses to go out without them.
 *
 * Adding a profile rewrites the shared files (legal-info/manifest.csv, its tarball and SHA256SUMS)
 * from everything in the directory, so the order profiles are added in does not matter.
 */

export interface ReleaseInput {
  manifest: Manifest;
  /** out/<profile>/: the artifacts, manifest.json and legal/<recipe>/. */
  outDir: string;
  dest: string;
  debianArchive?: string;
  details?: Readonly<Record<string, RecipeDetails>>;
  /** Signs SHA256SUMS (SHA256SUMS.asc), and netboot folders when netbootSigner is not given. */
  signer?: GpgSigner;
  /** Signs the kernel and initramfs of a netboot folder built with --netboot-verify-key. */
  netbootSigner?: GpgSigner;
}

export interface ReleaseResult {
  /** Files written for this profile, relative to dest. */
  files: string[];
  /** Every file SHA256SUMS lists. */
  checksummed: number;
}

export function releasePrefix(m: Pick<Manifest, 'version' | 'profile'>): string {
  return `zos-${m.version}-${m.profile}`;
}

/**
 * The release name of an artifact of out/<profile>/: `zos.efi` → `zos-1.2.3-generic.efi`,
 * `usb.img` → `zos-1.2.3-generic-usb.img`, `netboot/boot.ipxe` → `zos-1.2.3-generic-netboot/boot.ipxe`
 * (names inside a folder are kept: boot scripts refer to them).
 */
export function releaseName(m: Pick<Manifest, 'version' | 'profile'>, file: string): string {
  const prefix = releasePrefix(m);
  const slash = file.indexOf('/');
  if (slash >= 0) return `${prefix}-${file.slice(0, slash)}${file.slice(slash)}`;
  const zos = /^zos(\.[^/]+)$/.exec(file);
  if (zos) return `${prefix}${zos[1]}`;
  return `${prefix}-${file}`;
}

/** Runs a shell-free pipeline `tar ... | gzip -n` into `out`: the same tree gives the same bytes. */
export async function deterministicTarGz(parent: string, entry: string, out: string, epoch: number): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const tar = spawn(
    'tar',
    [
      '--sort=name',
      `--mtime=@${epoch}`,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mode=u+rw,go-w,a+rX',
      '--format=gnu',
      '-C',
      parent,
      '-cf',
      '-',
      entry,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  const gzip = spawn('gzip', ['-n', '-9', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const done = (p: ReturnType<typeof spawn>, name: string) =>
    new Promise<void>((resolve, reject) => {
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', reject);
      p.on('close', (code) =>
        code === 0 ? resolve() : reject(new ZosError(`${name} failed making ${out} (exit ${code}): ${err.trim()}`)),
      );
    });
  await Promise.all([
    done(tar, 'tar'),
    done(gzip, 'gzip'),
    pipeline(tar.stdout!, gzip.stdin!),
    pipeline(gzip.stdout!, createWriteStream(out)),
  ]);
}

async function releaseManifests(dest: string): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const f of (await readdir(dest)).sort()) {
    if (f.endsWith('.manifest.json')) out.push(JSON.parse(await readFile(join(dest, f), 'utf8')) as Manifest);
  }
  return out;
}

export async function assembleRelease(input: ReleaseInput): Promise<ReleaseResult> {
  const { manifest: m, outDir, dest } = input;
  await mkdir(dest, { recursive: true });
  for (const other of await releaseManifests(dest)) {
    if (other.version !== m.version) {
      throw new ZosError(
        `release: ${dest} already holds version ${other.version} (profile ${other.profile}); this is ${m.version}`,
        'Use one release directory per version.',
      );
    }
  }
  const prefix = releasePrefix(m);
  const files: string[] = [];
  const folders = new Set<string>();

  // Artifacts: checked against the manifest, so a file edited in out/ never ships.
  for (const a of m.artifacts) {
    if (a.file.startsWith('legal/')) continue;
    const src = join(outDir, a.file);
    if (!(await exists(src)))
      throw new ZosError(
        `release: ${src} is listed in ${join(outDir, 'manifest.json')} but missing`,
        `Rebuild: zos-build build --profile ${m.profile}`,
      );
    const actual = await sha256File(src);
    if (actual !== a.sha256) {
      throw new ZosError(
        `release: ${src} has sha256 ${actual}, the manifest says ${a.sha256}`,
        `Something changed out/${m.profile}/ after the build; rebuild it.`,
      );
    }
    const name = releaseName(m, a.file);
    const to = join(dest, name);
    await mkdir(dirname(to), { recursive: true });
    await rm(to, { force: true });
    await copyFile(src, to);
    await chmod(to, 0o644);
    files.push(name);
    if (name.includes('/')) folders.add(name.slice(0, name.indexOf('/')));
  }
  for (const folder of [...folders].sort()) {
    if (await exists(join(dest, folder, NETBOOT_PUBKEY))) {
      const by = input.netbootSigner ?? input.signer;
      if (!by)
        throw new ZosError(
          `release: ${folder}/ was built with a netboot verification key, so its GRUB boots only signed files`,
          'Give the signing key: --netboot-gpg-key KEY (or --gpg-key KEY, which also signs SHA256SUMS).',
        );
      files.push(...(await signNetboot(join(dest, folder), by)).map((f) => `${folder}/${f}`));
    }
    const tgz = `${folder}.tar.gz`;
    await deterministicTarGz(dest, folder, join(dest, tgz), m.sourceDateEpoch);
    files.push(tgz);
  }

  await writeFileAtomic(join(dest, `${prefix}.manifest.json`), `${JSON.stringify(m, null, 2)}\n`);
  files.push(`${prefix}.manifest.json`);
  await writeFileAtomic(
    join(dest, `${prefix}.spdx.json`),
    sbomJson(spdxSbom(m, { debianArchive: input.debianArchive, details: input.details })),
  );
  files.push(`${prefix}.spdx.json`);

  const legal = await copyLicenseTexts(m, outDir, dest);
  files.push(...legal.flatMap((e) => e.files));

  // Shared by every profile of the release: rebuilt from what the directory holds.
  const all = await releaseManifests(dest);
  await writeLegalCsv(dest, all, { debianArchive: input.debianArchive });
  const legalTgz = `zos-${m.version}-${LEGAL_INFO}.tar.gz`;
  await deterministicTarGz(dest, LEGAL_INFO, join(dest, legalTgz), Math.max(...all.map((x) => x.sourceDateEpoch)));
  // A signature of an earlier SHA256SUMS (previous profile) must not outlive it, nor be listed in it.
  await rm(join(dest, SHA256SUMS_ASC), { force: true });
  const sums = await writeSha256Sums(dest);
  if (input.signer) {
    await gpgDetachSign(join(dest, SHA256SUMS), join(dest, SHA256SUMS_ASC), input.signer, true);
    files.push(SHA256SUMS_ASC);
  }
  return { files: files.sort(), checksummed: sums.length };
}

/** Armored detached signature of SHA256SUMS: `gpg --verify SHA256SUMS.asc SHA256SUMS`. */
export const SHA256SUMS_ASC = `${SHA256SUMS}.asc`;

export { SHA256SUMS };
