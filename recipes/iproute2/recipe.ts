import { defineRecipe } from '../../build/recipe/define.js';
import { makeKind } from '../../build/steps/make-kind.js';

// Debian's orig tarball is upstream's iproute2-6.1.0.tar.xz from kernel.org unchanged.
// Only lib/, ip/ and bridge/ are built (no tc, ss, devlink, rdma, man pages). JSON output (`ip -j`) is
// built in; libmnl (extended netlink error messages), libelf/libbpf and SELinux are not in the sysroot,
// and configure leaves them out.
export default defineRecipe({
  name: 'iproute2',
  version: '6.1.0',
  cpe: { vendor: 'iproute2_project', product: 'iproute2' },
  license: 'GPL-2.0-or-later',
  licenseFiles: ['COPYING'],
  description: 'ip (with `ip -j` JSON output) and bridge: the agent configures links, addresses, routes',
  homepage: 'https://wiki.linuxfoundation.org/networking/iproute2',
  sources: [
    {
      file: 'iproute2_${version}.orig.tar.xz',
      sha256: '5ce12a0fec6b212725ef218735941b2dab76244db7e72646a76021b0537b43ab',
      locations: [
        'https://www.kernel.org/pub/linux/utils/net/iproute2/iproute2-${version}.tar.xz',
        'debian:pool/main/i/iproute2/iproute2_${version}.orig.tar.xz',
        'https://snapshot.debian.org/file/a10a6b479a641f2d4280c762ce531ebe3f2adb1c',
      ],
    },
  ],
  dependencies: ['linux-headers'],
  // Static ip finds its link types (veth, bridge, ...) without dlsym() on itself.
  patches: ['0001-static-builtin-link-types.patch'],
  build: makeKind({
    // iproute2's own configure script (not autoconf); it writes config.mk.
    configureCommand: ['./configure', '--prefix=/usr'],
    // The Makefile hard-sets `CC := gcc`, so CC goes on the command line; it appends the environment's
    // CFLAGS to its own, so CFLAGS must not (a command-line CFLAGS would drop its -I../include).
    make: ['CC=musl-gcc -static', 'SUBDIRS=lib ip bridge'],
    // /etc/iproute2: the name tables (rt_tables, rt_protos, ...) that ip prints and accepts.
    keep: ['sbin/ip', 'sbin/bridge', 'etc/iproute2/*'],
  }),
});
