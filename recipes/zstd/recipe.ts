import { defineRecipe } from '../../build/recipe/define.js';
import { makeKind } from '../../build/steps/make-kind.js';

// Debian repacks zstd 1.5.4 ("+dfsg2": files without a clear license removed), so the pin is Debian's file;
// the library code is upstream's https://github.com/facebook/zstd/releases/download/v1.5.4/zstd-1.5.4.tar.gz.
// Only the library is built (lib/): btrfs-progs and kmod link it; the zstd CLI is not in the image.
export default defineRecipe({
  name: 'zstd',
  version: '1.5.4',
  cpe: { vendor: 'facebook', product: 'zstandard' },
  license: 'BSD-3-Clause OR GPL-2.0-only',
  licenseFiles: ['LICENSE', 'COPYING'],
  description: 'Zstandard compression library (static, for btrfs-progs and kmod)',
  homepage: 'https://facebook.github.io/zstd/',
  sources: [
    {
      file: 'libzstd_${version}+dfsg2.orig.tar.xz',
      sha256: '8cf4bbb65e77ec348d052c8d6230eba66d435bddf64c8b5be2fcb16880c19953',
      locations: [
        'debian:pool/main/libz/libzstd/libzstd_${version}+dfsg2.orig.tar.xz',
        'https://snapshot.debian.org/file/37d1ae64b2e2f1882401b3ec596dd21ed20359ae',
      ],
    },
  ],
  build: makeKind({
    subdir: 'lib',
    makeVars: true,
    make: ['PREFIX=/usr', 'libzstd.a', 'libzstd.pc'],
    installTargets: ['install-static', 'install-includes', 'install-pc'],
    keep: [],
  }),
});
