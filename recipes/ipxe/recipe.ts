import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';

const DEB = 'ipxe_1.0.0+git-20190125.36a4c85-5.1_all.deb';

/**
 * iPXE's prebuilt binaries, taken from Debian's `ipxe` package (its source is not reachable from the
 * build machines, so nothing is compiled and no script can be embedded with EMBED=; the artifact
 * writers hand boot.ipxe to iPXE another way, see docs/artifacts.md). The .deb is placed as is
 * (extract: false) and unpacked with dpkg-deb; the four binaries land in <boot>/ipxe/.
 */
export default defineRecipe({
  name: 'ipxe',
  version: '1.0.0+git-20190125.36a4c85-5.1',
  license: 'GPL-2.0-or-later',
  // Unpacked into the source tree by the build, so the generic step finds it there.
  licenseFiles: ['deb/usr/share/doc/ipxe/copyright'],
  description: 'iPXE network boot firmware (prebuilt by Debian): ipxe.efi, ipxe.lkrn, undionly.kpxe, snponly.efi',
  homepage: 'https://ipxe.org/',
  sources: [
    {
      file: DEB,
      sha256: '49dc854857dcfb354292bdc79ce7419e0d72988666723395b2e102d147c3730d',
      locations: [`debian:pool/main/i/ipxe/${DEB}`, 'https://snapshot.debian.org/file/3612382af2c5e5165d06c44754902d6b33975d7f'],
      extract: false,
    },
  ],
  hostTools: ['dpkg-deb'],
  build: async (ctx) => {
    const root = join(ctx.srcDir, 'deb');
    await ctx.run('dpkg-deb', ['-x', join(ctx.srcDir, DEB), root]);
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
