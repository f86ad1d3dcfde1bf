import type { Source } from '../../build/recipe/types.js';

/** The kernel tree both `linux` (the kernel) and `linux-headers` (UAPI headers) build from. */
export const LINUX_VERSION = '6.1.176';

// Debian repacks the kernel tarball (it drops non-free firmware sources), so its orig tarball does
// not hash like kernel.org's linux-6.1.176.tar.xz; the pin is Debian's. snapshot.debian.org keeps
// the file after bookworm's pool moves on to a newer 6.1 (the version there follows security updates).
export const LINUX_SOURCES: Source[] = [
  {
    file: 'linux_${version}.orig.tar.xz',
    sha256: '9aad4025973feea3f0d978e82ab7db97d8d5ce3f59fcc6b1f316153d66e3a504',
    locations: [
      'debian:pool/main/l/linux/linux_${version}.orig.tar.xz',
      // snapshot.debian.org serves every file it ever archived by its sha1.
      'https://snapshot.debian.org/file/4441b32974d18ee4e4be15a51f647a221bc4d94a',
    ],
  },
];
