import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';

// `${version}` (escaped here) is filled in by the loader with the recipe's version.
const deb = (pkg: string) => `${pkg}_\${version}_all.deb`;

/**
 * Only the firmware the generic kernel's drivers load (linux-firmware is hundreds of MB): Realtek
 * r8169 NICs, Broadcom tg3, and the DDP package of Intel ice (which otherwise runs in safe mode).
 * Taken from Debian's non-free-firmware packages; the drivers are modules loaded by core0's coldplug
 * pass, and find their firmware in /lib/firmware of the image.
 */
const KEEP = ['lib/firmware/rtl_nic', 'lib/firmware/tigon', 'lib/firmware/intel/ice/ddp'];

export default defineRecipe({
  name: 'firmware',
  version: '20230210-5',
  license: 'LicenseRef-Redistributable-Firmware',
  // The generic step unpacks both .debs into deb/ of the source tree (kind: 'deb').
  licenseFiles: ['deb/usr/share/doc/firmware-realtek/copyright', 'deb/usr/share/doc/firmware-misc-nonfree/copyright'],
  description: "Device firmware for the generic profile's NICs (r8169, tg3, ice), filtered from Debian",
  homepage: 'https://git.kernel.org/pub/scm/linux/kernel/git/firmware/linux-firmware.git',
  sources: [
    {
      kind: 'deb',
      file: deb('firmware-realtek'),
      sha256: '586ce39fc23f8b1d121bd430f5e187c80701df650f4baba05771d828444b075c',
      locations: [
        `debian:pool/non-free-firmware/f/firmware-nonfree/${deb('firmware-realtek')}`,
        'https://snapshot.debian.org/file/4ca0c9fe5b2821457b4fc591af5d0d47f5023e72',
      ],
    },
    {
      kind: 'deb',
      file: deb('firmware-misc-nonfree'),
      sha256: 'bc837b3c19f046d48e4f2fb5530ab10b93a6e9e263d60ba06a345d13cee96422',
      locations: [
        `debian:pool/non-free-firmware/f/firmware-nonfree/${deb('firmware-misc-nonfree')}`,
        'https://snapshot.debian.org/file/8dd9729358261cdf435b959f7807e02361109272',
      ],
    },
  ],
  async build(ctx) {
    const root = join(ctx.srcDir, 'deb');
    for (const dir of KEEP) {
      await mkdir(join(ctx.out.rootfs, dir, '..'), { recursive: true });
      await cp(join(root, dir), join(ctx.out.rootfs, dir), { recursive: true, verbatimSymlinks: true });
    }
  },
});
