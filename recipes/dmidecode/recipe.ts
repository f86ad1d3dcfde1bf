import { defineRecipe } from '../../build/recipe/define.js';
import { debInstall } from '../../build/steps/deb.js';

// dmidecode's source (dmidecode_3.4.orig.tar.xz, upstream
// https://download.savannah.gnu.org/releases/dmidecode/dmidecode-3.4.tar.xz) is not reachable from the
// build machines (Debian's archive answers 404 for it), so the image takes Debian 12's binary, which is
// glibc-dynamic and needs glibc-runtime. With the internet, switch to source: replace `sources` with
//   { file: 'dmidecode-${version}.tar.xz', sha256: <upstream's>, locations: [<the URL above>] }
// and `build` with makeKind({ makeVars: true, make: ['prefix=/usr'], keep: ['usr/sbin/dmidecode'] })
// (plain Makefile, no dependencies; not tried here for want of the source), then drop the glibc-runtime
// dependency.
export default defineRecipe({
  name: 'dmidecode',
  version: '3.4-1',
  license: 'GPL-2.0-or-later',
  licenseFiles: ['deb/usr/share/doc/dmidecode/copyright'],
  description: 'dmidecode: the node reports its hardware (SMBIOS: vendor, serial, memory slots)',
  homepage: 'https://www.nongnu.org/dmidecode/',
  sources: [
    {
      file: 'dmidecode_${version}_amd64.deb',
      sha256: 'd993666c87dd290d6df2a69bf0beba608c38b1157a5c97795d2011e51b0db96e',
      locations: [
        'debian:pool/main/d/dmidecode/dmidecode_${version}_amd64.deb',
        'https://snapshot.debian.org/file/a8e7b80474b1d979605d4d2b550ed9312fe97ad6',
      ],
      kind: 'deb',
    },
  ],
  dependencies: ['glibc-runtime'],
  build: debInstall({ keep: ['usr/sbin/dmidecode'] }),
});
