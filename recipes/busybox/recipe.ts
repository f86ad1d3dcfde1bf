import { defineRecipe } from '../../build/recipe/define.js';
import { kconfigMake } from '../../build/steps/kconfig-make.js';

export default defineRecipe({
  name: 'busybox',
  version: '1.35.0',
  cpe: { vendor: 'busybox', product: 'busybox' },
  license: 'GPL-2.0-only',
  licenseFiles: ['LICENSE'],
  description: 'Static busybox (musl): the shell and tools the agent and boot scripts use',
  homepage: 'https://busybox.net/',
  sources: [
    {
      file: 'busybox-1.35.0.tar.bz2',
      sha256: 'faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694',
      locations: [
        'https://busybox.net/downloads/busybox-1.35.0.tar.bz2',
        // Debian ships the same bytes as its orig tarball.
        'debian:pool/main/b/busybox/busybox_1.35.0.orig.tar.bz2',
      ],
    },
  ],
  dependencies: ['linux-headers'],
  hostTools: ['musl-gcc', 'gcc', 'make'],
  settings: () => ({ files: ['config/busybox.config'] }),
  build: (ctx) =>
    kconfigMake(ctx, {
      base: 'defconfig',
      fragments: ['config/busybox.config'],
      // musl has no Linux UAPI headers of its own: use the sysroot's (from linux-headers).
      extraConfig: { CONFIG_EXTRA_CFLAGS: `"-I${ctx.sysroot}/usr/include"` },
      makeArgs: ['CC=musl-gcc'],
      install: ['install', `CONFIG_PREFIX=${ctx.out.rootfs}`],
    }),
});
