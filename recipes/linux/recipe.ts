import { defineRecipe } from '../../build/recipe/define.js';
import { kbuild } from '../../build/steps/kbuild.js';

// Debian repacks the kernel tarball (it drops non-free firmware sources), so its orig tarball does
// not hash like kernel.org's linux-6.1.176.tar.xz; the pin is Debian's. snapshot.debian.org keeps
// the file after bookworm's pool moves on to a newer 6.1 (the version there follows security updates).
export default defineRecipe({
  name: 'linux',
  version: '6.1.176',
  license: 'GPL-2.0-only',
  licenseFiles: ['COPYING', 'LICENSES/preferred/GPL-2.0'],
  description: 'Linux kernel: bzImage with EFI stub, UAPI headers for the userland',
  homepage: 'https://www.kernel.org/',
  sources: [
    {
      file: 'linux_6.1.176.orig.tar.xz',
      sha256: '9aad4025973feea3f0d978e82ab7db97d8d5ce3f59fcc6b1f316153d66e3a504',
      locations: [
        'debian:pool/main/l/linux/linux_6.1.176.orig.tar.xz',
        // snapshot.debian.org serves every file it ever archived by its sha1.
        'https://snapshot.debian.org/file/4441b32974d18ee4e4be15a51f647a221bc4d94a',
      ],
    },
  ],
  hostTools: ['gcc', 'ld', 'make', 'bison', 'flex', 'perl', 'bc'],
  settings: (profile) => ({
    files: profile.kernel.fragments,
    values: { base: profile.kernel.base, modules: profile.kernel.modules ?? false },
  }),
  build: (ctx) =>
    kbuild(ctx, {
      base: ctx.values.base as 'tinyconfig' | 'defconfig',
      fragments: ctx.profile.kernel.fragments,
      // The kernel carries only its own inputs' identity: a commit that leaves them alone reuses it.
      localVersion: '-zos',
      modules: ctx.values.modules === true,
    }),
});
