import { defineRecipe } from '../../build/recipe/define.js';
import { debInstall } from '../../build/steps/deb.js';

// The runtime that Debian's (glibc, dynamically linked) binaries in the image need: the loader, libc,
// libm, and libtinfo (which both libedit, for nft, and libreadline, for parted, link). Only recipes
// of the `deb` kind (nftables, parted, dmidecode) depend on it; everything built from source is
// static musl and needs nothing at run time. Debian's glibc searches /lib/x86_64-linux-gnu and
// /usr/lib/x86_64-linux-gnu by itself, so no /etc/ld.so.cache is needed.
export default defineRecipe({
  name: 'glibc-runtime',
  version: '2.36-9+deb12u14',
  license: 'LGPL-2.1-or-later AND X11',
  licenseFiles: ['deb/usr/share/doc/libc6/copyright', 'deb/usr/share/doc/libtinfo6/copyright'],
  description: 'glibc loader, libc, libm and libtinfo from Debian 12, for the Debian binaries in the image',
  homepage: 'https://www.gnu.org/software/libc/',
  sources: [
    {
      file: 'libc6_${version}_amd64.deb',
      sha256: 'ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf',
      locations: [
        'debian:pool/main/g/glibc/libc6_${version}_amd64.deb',
        'https://snapshot.debian.org/file/c534c6c7f912b61ca26b7cf4082235a0343b8751',
      ],
      kind: 'deb',
    },
    {
      file: 'libtinfo6_6.4-4_amd64.deb',
      sha256: '072d908f38f51090ca28ca5afa3b46b2957dc61fe35094c0b851426859a49a51',
      locations: [
        'debian:pool/main/n/ncurses/libtinfo6_6.4-4_amd64.deb',
        'https://snapshot.debian.org/file/781ec9adada247b594f581c6e6d542082ecddf1f',
      ],
      kind: 'deb',
    },
  ],
  build: debInstall({
    keep: [
      'lib64/ld-linux-x86-64.so.2',
      'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      'lib/x86_64-linux-gnu/libc.so.6',
      'lib/x86_64-linux-gnu/libm.so.6',
      'lib/x86_64-linux-gnu/libtinfo.so.6*',
    ],
  }),
});
