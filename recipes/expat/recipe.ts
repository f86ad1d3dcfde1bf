import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian's orig tarball is the GitHub tag (libexpat-R_2_5_0/expat/...): no generated configure,
// so the autotools kind runs autoreconf first.
export default defineRecipe({
  name: 'expat',
  version: '2.5.0',
  cpe: { vendor: 'libexpat_project', product: 'libexpat' },
  license: 'MIT',
  licenseFiles: ['expat/COPYING'],
  description: 'Expat XML parser: libexpat in the sysroot, xmlwf in the image',
  homepage: 'https://libexpat.github.io/',
  sources: [
    {
      file: 'expat_${version}.orig.tar.gz',
      sha256: 'ab00ee05c7067fd10a35c5d2a4922ebba746ddd50ff83b79c828da17bbdf1757',
      locations: ['debian:pool/main/e/expat/expat_${version}.orig.tar.gz'],
    },
  ],
  build: autotools({
    subdir: 'expat',
    autoreconf: true,
    configure: ['--without-docbook', '--without-examples', '--without-tests'],
    keep: ['usr/bin/xmlwf'],
  }),
});
