import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian's orig tarball is upstream's ethtool-6.1.tar.xz from kernel.org unchanged.
// Without netlink: the netlink interface needs libmnl, whose source is not reachable from the build
// machines (see recipes/nftables); ethtool falls back to the ioctl interface, which covers link
// settings, driver info, statistics, offloads and ring sizes. With libmnl as a recipe, depend on it
// and drop '--disable-netlink'.
export default defineRecipe({
  name: 'ethtool',
  version: '6.1',
  cpe: { vendor: 'kernel', product: 'ethtool' },
  license: 'GPL-2.0-only',
  licenseFiles: ['COPYING', 'LICENSE'],
  description: 'ethtool: NIC link settings, driver info and statistics',
  homepage: 'https://www.kernel.org/pub/software/network/ethtool/',
  sources: [
    {
      file: 'ethtool_${version}.orig.tar.xz',
      sha256: 'c41fc881ffa5a40432d2dd829eb44c64a49dee482e716baacf9262c64daa8f90',
      locations: [
        'https://www.kernel.org/pub/software/network/ethtool/ethtool-${version}.tar.xz',
        'debian:pool/main/e/ethtool/ethtool_${version}.orig.tar.xz',
        'https://snapshot.debian.org/file/a307e7e0afb22984049ba755efe2d23b50c3ace5',
      ],
    },
  ],
  dependencies: ['linux-headers'],
  patches: ['0001-marvell-c99-integer-types.patch'],
  build: autotools({ configure: ['--disable-netlink'], keep: ['usr/sbin/ethtool'] }),
});
