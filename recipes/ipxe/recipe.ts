import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';

/**
 * iPXE's prebuilt binaries, taken from Debian's `ipxe` package (its source is not reachable from the
 * build machines, so nothing is compiled and no script can be embedded with EMBED=; the artifact
 * writers hand boot.ipxe to iPXE another way, see docs/artifacts.md). The .deb is unpacked into deb/
 * by the generic step (kind: 'deb'); the four binaries land in <boot>/ipxe/.
 */
export default defineRecipe({
  name: 'ipxe',
  version: '1.0.0+git-20190125.36a4c85-5.1',
  cpe: { vendor: 'ipxe', product: 'ipxe', version: '1.0.0+git-20190125.36a4c85' },
  license: 'GPL-2.0-or-later',
  licenseFiles: ['deb/usr/share/doc/ipxe/copyright'],
  description: 'iPXE network boot firmware (prebuilt by Debian): ipxe.efi, ipxe.lkrn, undionly.kpxe, snponly.efi',
  homepage: 'https://ipxe.org/',
  provides: ['bootloader'],
  sources: [
    {
      kind: 'deb',
      file: 'ipxe_${version}_all.deb',
      sha256: '49dc854857dcfb354292bdc79ce7419e0d72988666723395b2e102d147c3730d',
      locations: [
        'debian:pool/main/i/ipxe/ipxe_${version}_all.deb',
        'https://snapshot.debian.org/file/3612382af2c5e5165d06c44754902d6b33975d7f',
      ],
    },
  ],
  build: async (ctx) => {
    const root = join(ctx.srcDir, 'deb');
    const dest = join(ctx.out.boot, 'ipxe');
    await mkdir(dest, { recursive: true });
    // Debian installs ipxe.efi and ipxe.lkrn under /boot, the others under /usr/lib/ipxe.
    const files: [string, string][] = [
      ['boot/ipxe.efi', 'ipxe.efi'],
      ['boot/ipxe.lkrn', 'ipxe.lkrn'],
      ['usr/lib/ipxe/undionly.kpxe', 'undionly.kpxe'],
      ['usr/lib/ipxe/snponly.efi', 'snponly.efi'],
    ];
    for (const [from, to] of files) await copyFile(join(root, from), join(dest, to));
  },
});
