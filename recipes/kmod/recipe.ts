import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian 12 packages a git snapshot of kmod taken after release 30 ("30+20221128"), so the pin is Debian's
// file (upstream's kmod-30.tar.xz from kernel.org is a different tree). The snapshot has no generated
// configure: the kind runs autoreconf, and the first patch adds the stub that kmod's autogen.sh would
// create without gtk-doc; the second lets configure accept --enable-static (kmod rejects it, and with
// --disable-shared libtool then forces it on). Modules compressed with zstd, xz or gzip are supported.
const build = autotools({
  autoreconf: true,
  // libtool drops -static when it links programs; gcc's `--static` passes through (see util-linux).
  ldflags: '--static',
  configure: [
    '--disable-manpages',
    '--disable-test-modules',
    '--disable-python',
    '--disable-debug',
    '--without-openssl',
    '--with-zstd',
    '--with-xz',
    '--with-zlib',
  ],
  keep: ['usr/bin/kmod'],
});

// `make install` installs only the multi-call binary; like Debian's package, the tools are symlinks to it.
// They go to /usr/sbin, beside (not over) busybox's applets in /sbin.
const TOOLS = ['depmod', 'insmod', 'lsmod', 'modinfo', 'modprobe', 'rmmod'];

export default defineRecipe({
  name: 'kmod',
  version: '30+20221128',
  cpe: { vendor: 'kernel', product: 'kmod', version: '30' },
  license: 'LGPL-2.1-or-later AND GPL-2.0-or-later',
  licenseFiles: ['libkmod/COPYING', 'tools/COPYING'],
  description: 'kmod: modprobe, depmod, lsmod with zstd/xz/gzip-compressed module support',
  homepage: 'https://git.kernel.org/pub/scm/utils/kernel/kmod/kmod.git',
  sources: [
    {
      file: 'kmod_${version}.orig.tar.xz',
      sha256: '00bc9ae4f1f9e1bbc1266d838452865bc7c24271d0853939edbe3029ad22af4e',
      locations: [
        'debian:pool/main/k/kmod/kmod_${version}.orig.tar.xz',
        'https://snapshot.debian.org/file/f71ee23e47ae9c57c6cd5e90be13e16c5684df49',
      ],
    },
  ],
  dependencies: ['zstd', 'xz', 'zlib', 'linux-headers'],
  patches: ['0001-gtk-doc-make-stub.patch', '0002-allow-static-build.patch'],
  hostTools: [...build.hostTools],
  // The autotools kind strips in release images.
  usesVariant: true,
  async build(ctx) {
    await build(ctx);
    const sbin = join(ctx.out.rootfs, 'usr/sbin');
    await mkdir(sbin, { recursive: true });
    for (const tool of TOOLS) await symlink('../bin/kmod', join(sbin, tool));
  },
});
