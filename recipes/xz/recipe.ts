import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian's orig tarball is upstream's xz-5.4.1.tar.xz (Debian names the source package xz-utils).
// Only liblzma is built, for kmod's .ko.xz support; busybox already has an xz decompressor.
export default defineRecipe({
  name: 'xz',
  version: '5.4.1',
  cpe: { vendor: 'tukaani', product: 'xz' },
  license: 'LicenseRef-xz-public-domain',
  licenseFiles: ['COPYING'],
  description: 'liblzma (static, for kmod to load .ko.xz modules)',
  homepage: 'https://tukaani.org/xz/',
  sources: [
    {
      file: 'xz-utils_${version}.orig.tar.xz',
      sha256: '5d9827aa1875b21c288f78864bb26d2650b436ea8d2cad364e4921eb6266a5a5',
      locations: [
        'https://tukaani.org/xz/xz-${version}.tar.xz',
        'debian:pool/main/x/xz-utils/xz-utils_${version}.orig.tar.xz',
        'https://snapshot.debian.org/file/8facb914772e5963d86f9cdd781c928009879b3b',
      ],
    },
  ],
  build: autotools({
    configure: [
      '--disable-nls',
      '--disable-doc',
      '--disable-xz',
      '--disable-xzdec',
      '--disable-lzmadec',
      '--disable-lzmainfo',
      '--disable-lzma-links',
      '--disable-scripts',
      '--disable-threads',
    ],
    keep: [],
  }),
});
