import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian's orig tarball is upstream's util-linux-2.38.1.tar.xz from kernel.org unchanged (same sha256).
//
// lsblk and findmnt have no configure switch of their own: they follow --disable-all-programs, so
// instead of that switch the programs the node does not need are disabled one by one (a few tiny
// switchless ones, e.g. rev or look, are still compiled; `keep` leaves them out of the image).
const UNWANTED = [
  'zramctl', 'fsck', 'partx', 'uuidd', 'uuidgen', 'mountpoint', 'fallocate', 'setpriv', 'hardlink', 'eject',
  'agetty', 'plymouth', 'cramfs', 'bfs', 'minix', 'hwclock', 'mkfs', 'fstrim', 'swapon', 'lscpu', 'lsfd',
  'lslogins', 'wdctl', 'cal', 'logger', 'whereis', 'switch_root', 'pivot_root', 'lsmem', 'chmem', 'ipcmk', 'ipcrm',
  'ipcs', 'irqtop', 'lsirq', 'lsns', 'rfkill', 'scriptutils', 'kill', 'last', 'utmpdump', 'mesg', 'raw', 'rename',
  'chfn-chsh', 'login', 'nologin', 'sulogin', 'su', 'runuser', 'ul', 'more', 'setterm', 'schedutils', 'wall',
  'makeinstall-chown', 'makeinstall-setuid',
];

export default defineRecipe({
  name: 'util-linux',
  version: '2.38.1',
  // Programs GPL-2.0-or-later; libblkid, libmount, libfdisk, libsmartcols LGPL-2.1-or-later; libuuid BSD-3-Clause.
  license: 'GPL-2.0-or-later AND LGPL-2.1-or-later AND BSD-3-Clause',
  licenseFiles: [
    'README.licensing',
    'Documentation/licenses/COPYING.GPL-2.0-or-later',
    'Documentation/licenses/COPYING.LGPL-2.1-or-later',
    'Documentation/licenses/COPYING.BSD-3-Clause',
  ],
  description: 'libuuid, libblkid, libmount, libsmartcols, libfdisk; lsblk, blkid, sfdisk, mount, findmnt, wipefs, ...',
  homepage: 'https://github.com/util-linux/util-linux',
  sources: [
    {
      file: 'util-linux_${version}.orig.tar.xz',
      sha256: '60492a19b44e6cf9a3ddff68325b333b8b52b6c59ce3ebd6a0ecaa4c5117e84f',
      locations: [
        'https://www.kernel.org/pub/linux/utils/util-linux/v2.38/util-linux-${version}.tar.xz',
        'debian:pool/main/u/util-linux/util-linux_${version}.orig.tar.xz',
        'https://snapshot.debian.org/file/f62a7b6fe64ce7f4569b57d7d2d0875b39f79836',
      ],
    },
  ],
  dependencies: ['linux-headers'],
  build: autotools({
    // libtool eats `-static` (also inside CC) when it links programs, which leaves them dynamically linked
    // against musl; gcc's spelling `--static` passes through libtool untouched (checked: `file` says static).
    ldflags: '--static',
    configure: [
      ...UNWANTED.map((p) => `--disable-${p}`),
      // fdisk and sfdisk; cfdisk needs ncurses and drops out quietly with "check".
      '--enable-fdisks=check',
      '--disable-nls', '--disable-asciidoc', '--disable-poman', '--disable-bash-completion', '--disable-pylibmount',
      '--without-python', '--without-systemd', '--without-udev', '--without-ncurses', '--without-ncursesw',
      '--without-tinfo', '--without-readline', '--without-cap-ng', '--without-libz', '--without-libmagic',
      '--without-econf', '--without-selinux', '--without-audit', '--without-user', '--without-btrfs',
    ],
    keep: [
      'bin/lsblk', 'bin/findmnt', 'bin/mount', 'bin/umount', 'sbin/blkid', 'sbin/sfdisk', 'sbin/wipefs', 'sbin/losetup',
      'usr/bin/nsenter', 'usr/bin/unshare',
    ],
  }),
});
