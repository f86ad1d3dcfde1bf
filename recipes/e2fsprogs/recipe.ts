import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian's orig tarball is upstream's e2fsprogs-1.47.0.tar.gz (the Debian maintainer is upstream).
// libuuid and libblkid come from util-linux (--disable-libuuid/--disable-libblkid: e2fsprogs' own copies
// are not built).
export default defineRecipe({
  name: 'e2fsprogs',
  version: '1.47.0',
  cpe: { vendor: 'e2fsprogs_project', product: 'e2fsprogs' },
  license: 'GPL-2.0-only AND LGPL-2.0-only AND BSD-3-Clause AND MIT',
  licenseFiles: ['NOTICE'],
  description: 'ext2/3/4 tools: mkfs.ext4, e2fsck, tune2fs, resize2fs',
  mounted: true,
  homepage: 'https://e2fsprogs.sourceforge.net/',
  sources: [
    {
      file: 'e2fsprogs_${version}.orig.tar.gz',
      sha256: '6667afde56eef0c6af26684974400e4d2288ea49e9441bf5e6229195d51a3578',
      locations: [
        'https://www.kernel.org/pub/linux/kernel/people/tytso/e2fsprogs/v${version}/e2fsprogs-${version}.tar.gz',
        'debian:pool/main/e/e2fsprogs/e2fsprogs_${version}.orig.tar.gz',
        'https://snapshot.debian.org/file/987645f563f279ab32aac19d824c64e9690e3152',
      ],
    },
  ],
  dependencies: ['util-linux', 'linux-headers'],
  build: autotools({
    configure: [
      '--disable-nls',
      '--disable-libuuid',
      '--disable-libblkid',
      '--disable-uuidd',
      '--disable-fuse2fs',
      '--disable-debugfs',
      '--disable-imager',
      '--disable-defrag',
      '--disable-e2initrd-helper',
      '--disable-tdb',
      '--disable-bmap-stats',
      '--disable-backtrace',
      '--without-libarchive',
      '--without-udev-rules-dir',
      '--without-systemd-unit-dir',
      '--without-crond-dir',
    ],
    // mke2fs/mkfs.ext* and e2fsck/fsck.ext* are hard links of one another: one name each is kept.
    keep: ['usr/sbin/mkfs.ext4', 'usr/sbin/e2fsck', 'usr/sbin/tune2fs', 'usr/sbin/resize2fs'],
  }),
});
