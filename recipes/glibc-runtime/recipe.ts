import { defineRecipe } from '../../build/recipe/define.js';
import { debInstall } from '../../build/steps/deb.js';

// The runtime that Debian's (glibc, dynamically linked) binaries in the image share: the loader, libc,
// libm, and the libraries more than one of them links, so that each file comes from one recipe only:
// libtinfo (libedit for nft, libreadline for parted), libselinux and its libpcre2-8 (libdevmapper for
// parted, smartctl). Only recipes of the `deb` kind (nftables, parted, dmidecode, smartmontools) depend
// on it; everything built from source is static musl and needs nothing at run time. Debian's glibc
// searches /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu by itself (seen in a chroot without
// /etc/ld.so.cache), so no cache is needed.
export default defineRecipe({
  name: 'glibc-runtime',
  version: '2.36-9+deb12u14',
  cpe: { vendor: 'gnu', product: 'glibc', version: '2.36' },
  license: 'LGPL-2.1-or-later AND X11 AND LicenseRef-selinux-public-domain AND BSD-3-Clause',
  licenseFiles: [
    'deb/usr/share/doc/libc6/copyright',
    'deb/usr/share/doc/libtinfo6/copyright',
    'deb/usr/share/doc/libselinux1/copyright',
    'deb/usr/share/doc/libpcre2-8-0/copyright',
  ],
  description: 'glibc loader, libc, libm, libtinfo, libselinux, libpcre2-8 from Debian 12, for its binaries',
  mounted: true,
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
    {
      file: 'libselinux1_3.4-1+b6_amd64.deb',
      sha256: '2b07f5287b9105f40158b56e4d70cc1652dac56a408f3507b4ab3d061eed425f',
      locations: [
        'debian:pool/main/libs/libselinux/libselinux1_3.4-1+b6_amd64.deb',
        'https://snapshot.debian.org/file/3622f92473ca1113ee5c68ce8f1b47f6cdafe4df',
      ],
      kind: 'deb',
    },
    {
      // bookworm-security, outside the main archive
      file: 'libpcre2-8-0_10.42-1+deb12u2_amd64.deb',
      sha256: 'd2f7edfcc7689b9e0761c2742cc824ac86a20768bc5e8057818dc6875291fe76',
      locations: [
        'https://deb.debian.org/debian-security/pool/updates/main/p/pcre2/libpcre2-8-0_10.42-1%2bdeb12u2_amd64.deb',
        'https://snapshot.debian.org/file/af87568214042f8871982dcab9a3c5c32f789e60',
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
      'lib/x86_64-linux-gnu/libselinux.so.1',
      'usr/lib/x86_64-linux-gnu/libpcre2-8.so.0*',
    ],
  }),
});
