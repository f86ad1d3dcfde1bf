import { defineRecipe } from '../../build/recipe/define.js';
import { debianPackage } from '../../build/recipe/sources.js';
import { debInstall } from '../../build/steps/deb.js';

// smartmontools is C++, and the image's toolchain is C only: Debian has no C++ compiler or libstdc++ for
// musl (musl-tools gives musl-gcc alone), and building libstdc++ against musl means building a whole
// cross toolchain. So the image takes Debian 12's smartctl, glibc-dynamic, with its C++ runtime
// (checked with readelf: smartctl -> libstdc++, libgcc_s, libselinux, libc; libstdc++ -> libm, libgcc_s;
// libc, libm, libselinux, libpcre2-8 come from glibc-runtime). Its source (Debian's
// smartmontools_7.3.orig.tar.xz, a recompression of upstream's smartmontools-7.3.tar.gz from
// https://downloads.sourceforge.net/project/smartmontools/smartmontools/7.3/) is reachable here, so with a
// musl C++ toolchain on the host (e.g. a musl.cc x86_64-linux-musl-native toolchain) it becomes an
// autotools recipe with configure ['--without-libcap-ng', '--without-selinux', '--without-systemdsystemunitdir',
// '--without-nvme-devicescan'] and CXX pointed at that compiler (env), keep ['usr/sbin/smartctl'].
// (`g++ -static` against glibc would also give a self-contained smartctl, but a second libc in static
// binaries is a toolchain decision for the project, not for one recipe.)

export default defineRecipe({
  name: 'smartmontools',
  version: '7.3-1+b1',
  cpe: { vendor: 'smartmontools', product: 'smartmontools', version: '7.3' },
  license: 'GPL-2.0-or-later AND GPL-3.0-or-later WITH GCC-exception-3.1',
  licenseFiles: [
    'deb/usr/share/doc/smartmontools/copyright',
    // libstdc++6's and libgcc-s1's doc dirs are symlinks to gcc-12-base's, which holds their copyright.
    'deb/usr/share/doc/gcc-12-base/copyright',
  ],
  description: "smartctl: disk health (SMART) for the node's capacity reports, from Debian 12",
  mounted: true,
  homepage: 'https://www.smartmontools.org/',
  sources: [
    debianPackage(
      'pool/main/s/smartmontools/smartmontools_7.3-1+b1_amd64.deb',
      '724cd3dd49dec76f6fb0297252aeb860db54716d131387493180209f54d68d51',
      '4c1f92651fa8a76c8fd738c18c0cd2a41cfa3431',
    ),
    debianPackage(
      'pool/main/g/gcc-12/libstdc++6_12.2.0-14+deb12u1_amd64.deb',
      '5cd3171216d4ab0fc911cfe9c35509bf2dd8f47761c43b7f6a4296701551a24d',
      'b1d2dc0cd7bcd57fa4b1ea6dd27a40384d45b937',
    ),
    debianPackage(
      'pool/main/g/gcc-12/libgcc-s1_12.2.0-14+deb12u1_amd64.deb',
      '3016e62cb4b7cd8038822870601f5ed131befe942774d0f745622cc77d8a88f7',
      'c72798568b9086ecacf3d46e420c6d90b78ce50d',
    ),
    // Only for the GCC runtime's copyright (see licenseFiles); none of its files enter the image.
    debianPackage(
      'pool/main/g/gcc-12/gcc-12-base_12.2.0-14+deb12u1_amd64.deb',
      '1896a2aacf4ad681ff5eacc24a5b0ca4d5d9c9b9c9e4b6de5197bc1e116ea619',
      '715f9e66f5f45930246f5881c6dfe75ab8c6f32c',
    ),
  ],
  dependencies: ['glibc-runtime'],
  build: debInstall({
    keep: ['usr/sbin/smartctl', 'usr/lib/x86_64-linux-gnu/libstdc++.so.6*', 'lib/x86_64-linux-gnu/libgcc_s.so.1'],
  }),
});
