import { defineRecipe } from '../../build/recipe/define.js';
import { makeKind } from '../../build/steps/make-kind.js';

// Debian's orig tarball is zlib 1.2.13 minus non-free contrib files (".dfsg"): its own pin.
export default defineRecipe({
  name: 'zlib',
  version: '1.2.13',
  cpe: { vendor: 'zlib', product: 'zlib' },
  license: 'Zlib',
  licenseFiles: ['LICENSE'],
  description: 'zlib compression library (static, for the userland that links it)',
  homepage: 'https://zlib.net/',
  sources: [
    {
      file: 'zlib_${version}.dfsg.orig.tar.bz2',
      sha256: '71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1',
      locations: ['debian:pool/main/z/zlib/zlib_${version}.dfsg.orig.tar.bz2'],
    },
  ],
  // zlib's configure is its own script, not autoconf: it takes CC/CFLAGS from the environment.
  build: makeKind({ configureCommand: ['./configure', '--prefix=/usr', '--static'], drop: ['usr/share/**'] }),
});
