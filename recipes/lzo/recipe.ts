import { defineRecipe } from '../../build/recipe/define.js';
import { autotools } from '../../build/steps/autotools.js';

// Debian's orig tarball is upstream's lzo-2.10.tar.gz unchanged (same sha256).
export default defineRecipe({
  name: 'lzo',
  version: '2.10',
  cpe: { vendor: 'lzo_project', product: 'lzo' },
  license: 'GPL-2.0-or-later',
  licenseFiles: ['COPYING'],
  description: 'LZO compression library (static, for btrfs-progs)',
  homepage: 'https://www.oberhumer.com/opensource/lzo/',
  sources: [
    {
      file: 'lzo2_${version}.orig.tar.gz',
      sha256: 'c0f892943208266f9b6543b3ae308fab6284c5c90e627931446fb49b4221a072',
      locations: [
        'https://www.oberhumer.com/opensource/lzo/download/lzo-${version}.tar.gz',
        'debian:pool/main/l/lzo2/lzo2_${version}.orig.tar.gz',
        'https://snapshot.debian.org/file/4924676a9bae5db58ef129dc1cebce3baa3c4b5d',
      ],
    },
  ],
  build: autotools({ keep: [] }),
});
