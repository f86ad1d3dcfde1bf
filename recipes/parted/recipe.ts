import { defineRecipe } from '../../build/recipe/define.js';
import { DEBIAN_SECURITY, debianPackage } from '../../build/recipe/sources.js';
import { debInstall } from '../../build/steps/deb.js';

// parted's source (parted_3.5.orig.tar.xz; upstream https://ftp.gnu.org/gnu/parted/parted-3.5.tar.xz) is
// not reachable from the build machines (404), so the image takes Debian 12's binary (the bookworm
// security update), which is glibc-dynamic; this recipe carries its library closure (checked with
// readelf: parted -> libparted, libreadline; libparted -> libdevmapper, libblkid, libuuid;
// libdevmapper -> libselinux, libudev, libm; libselinux -> libpcre2-8; libc, libm, libtinfo, libselinux,
// libpcre2-8 come from glibc-runtime). Debian's libparted runs `sh -c 'dmidecode -s system-manufacturer'`
// when it starts and crashes (SIGSEGV, seen in a chroot) when that finds no shell or no dmidecode: the
// image needs busybox's /bin/sh and the dmidecode recipe next to it. The bookworm-security files live
// outside the main archive, hence their https URLs.
//
// With the internet, switch to a static musl build: autotools from the upstream tarball with
// dependencies ['util-linux', 'linux-headers'] (libuuid, libblkid) and configure ['--disable-nls',
// '--without-readline', '--disable-device-mapper', '--disable-debug'], keep ['usr/sbin/parted',
// 'usr/sbin/partprobe'], and drop the glibc-runtime dependency.

export default defineRecipe({
  name: 'parted',
  version: '3.5-3+deb12u1',
  cpe: { vendor: 'parted_project', product: 'parted', version: '3.5' },
  license: 'GPL-3.0-or-later AND GPL-2.0-or-later AND LGPL-2.1-or-later AND BSD-2-Clause',
  licenseFiles: [
    // parted's doc dir is a symlink to libparted2's (the same copyright).
    'deb/usr/share/doc/libparted2/copyright',
    'deb/usr/share/doc/libreadline8/copyright',
    'deb/usr/share/doc/libdevmapper1.02.1/copyright',
    'deb/usr/share/doc/libudev1/copyright',
    'deb/usr/share/doc/libblkid1/copyright',
    'deb/usr/share/doc/libuuid1/copyright',
  ],
  description: 'parted and partprobe: the node partitions its disks, from Debian 12 with their libraries',
  mounted: true,
  homepage: 'https://www.gnu.org/software/parted/',
  sources: [
    debianPackage(
      'pool/updates/main/p/parted/parted_3.5-3+deb12u1_amd64.deb',
      '8f658e9af92f1e286ca40401a856757d63136b93499a97ad58aa1575cb5e1207',
      '81f21dd848a42492bb1215aa195c9bd863d50a59',
      DEBIAN_SECURITY,
    ),
    debianPackage(
      'pool/updates/main/p/parted/libparted2_3.5-3+deb12u1_amd64.deb',
      '4911e72aa5e76f09826e1050bb116d8557f387744e34c1af3bc4990a7f00ae0a',
      '5bdbe3a6a6afa2913830ecaf22402becc615343c',
      DEBIAN_SECURITY,
    ),
    debianPackage(
      'pool/main/r/readline/libreadline8_8.2-1.3_amd64.deb',
      'e02ebbd3701cf468dbf98d6d917fbe0325e881f07fe8b316150c8d2a64486e66',
      '016feb55a9bd787126c3cf689ad1608d9b6498d6',
    ),
    debianPackage(
      'pool/main/l/lvm2/libdevmapper1.02.1_1.02.185-2_amd64.deb',
      'aaa78ca236055fedccf637eacf7bda02bf1980b2db668dccd202b04d0d2cfe04',
      'a24efeff732be7e191c24716efe192161bd63365',
    ),
    debianPackage(
      'pool/main/s/systemd/libudev1_252.39-1~deb12u2_amd64.deb',
      '6f7e08f11c4809d2e5998c775f7b423ab5ec2ce0309494b4a2615037052245e2',
      'a44729ea1eb4514b71c91a2e4b072aa637447009',
    ),
    debianPackage(
      'pool/main/u/util-linux/libblkid1_2.38.1-5+deb12u3_amd64.deb',
      '5a083377f29191cafcdf0f91ec124349b4a7895b531556633a136e43c6d53943',
      '0048c8356d00a5505589595ad5e6d28b0388136b',
    ),
    debianPackage(
      'pool/main/u/util-linux/libuuid1_2.38.1-5+deb12u3_amd64.deb',
      '5fff398321da62d28a842bcbabd193d72ae21724962c029dc32b1dc6b2deaeaf',
      'cc0777e2801bbdaf73751f122c8817525fe1ca42',
    ),
  ],
  dependencies: ['glibc-runtime', 'dmidecode'],
  build: debInstall({
    keep: [
      'sbin/parted',
      'sbin/partprobe',
      ...['parted.so.2*', 'readline.so.8*', 'devmapper.so.1.02.1'].map((l) => `lib/x86_64-linux-gnu/lib${l}`),
      ...['udev.so.1*', 'blkid.so.1*', 'uuid.so.1*'].map((l) => `usr/lib/x86_64-linux-gnu/lib${l}`),
    ],
  }),
});
