import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian's orig tarball is upstream's btrfs-progs-v6.2.tar.xz from kernel.org (the tree inside is
// btrfs-progs-v6.2/). No documentation (needs sphinx), no btrfs-convert (needs e2fsprogs' libext2fs),
// no Python bindings, no libudev, no zoned-device support; no backtrace (musl has no execinfo.h).
// The patch puts config.h.in where the tarball's configure looks for it.
export default defineRecipe({
  name: 'btrfs-progs',
  version: '6.2',
  license: 'GPL-2.0-only AND LGPL-2.1-or-later',
  licenseFiles: ['COPYING', 'libbtrfsutil/COPYING'],
  description: "btrfs and mkfs.btrfs: the node's storage pools are btrfs",
  mounted: true,
  homepage: 'https://btrfs.readthedocs.io/',
  sources: [
    {
      file: 'btrfs-progs_${version}.orig.tar.xz',
      sha256: '5fa59b9304bec59a8f0cb505f60c95d8c46b2948389033ad9d3cd72928bfd144',
      locations: [
        'https://www.kernel.org/pub/linux/kernel/people/kdave/btrfs-progs/btrfs-progs-v${version}.tar.xz',
        'debian:pool/main/b/btrfs-progs/btrfs-progs_${version}.orig.tar.xz',
        'https://snapshot.debian.org/file/c160e362bafcbf9030fa6be4f8bd06db3100efac',
      ],
    },
  ],
  dependencies: ['util-linux', 'zlib', 'lzo', 'zstd', 'linux-headers'],
  patches: ['0001-config-h-in-where-configure-looks.patch'],
  build: autotools({
    configure: [
      '--disable-documentation',
      '--disable-convert',
      '--disable-python',
      '--disable-libudev',
      '--disable-zoned',
      '--disable-backtrace',
    ],
    keep: ['usr/bin/btrfs', 'usr/bin/mkfs.btrfs'],
  }),
});
