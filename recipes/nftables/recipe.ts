import { defineRecipe } from '../../build/recipe/define.js';
import { debianPackage } from '../../build/recipe/sources.js';
import { debInstall } from '../../build/steps/deb.js';

// The sources of nftables, libmnl and libnftnl (Debian's nftables_1.0.6.orig.tar.xz,
// libmnl_1.0.4.orig.tar.bz2, libnftnl_1.2.4.orig.tar.bz2) are not reachable from the build machines
// (404), so the image takes Debian 12's binaries: `nft` is glibc-dynamic, and this recipe carries its
// whole library closure (checked with readelf: nft -> libnftables, libedit; libnftables -> libmnl,
// libnftnl, libxtables, libjansson, libgmp; libedit -> libbsd -> libmd; libtinfo and libc come from
// glibc-runtime).
//
// With the internet, switch to static musl builds from source: add recipes `libmnl` and `libnftnl`
// (autotools, https://netfilter.org/projects/libmnl/files/libmnl-1.0.4.tar.bz2 and
// https://netfilter.org/projects/libnftnl/files/libnftnl-1.2.4.tar.xz; libnftnl depends on libmnl), then
// make this recipe autotools from https://netfilter.org/projects/nftables/files/nftables-1.0.6.tar.xz with
// dependencies ['libmnl', 'libnftnl'] and configure ['--disable-man-doc', '--disable-python',
// '--without-cli', '--without-xtables', '--with-mini-gmp', '--without-json'] (no libedit, libgmp,
// libjansson needed), keep ['usr/sbin/nft'], and drop the glibc-runtime dependency.

export default defineRecipe({
  name: 'nftables',
  version: '1.0.6-2+deb12u2',
  license: 'GPL-2.0-only AND GPL-2.0-or-later AND LGPL-2.1-or-later AND MIT AND BSD-3-Clause AND LGPL-3.0-or-later',
  licenseFiles: [
    'deb/usr/share/doc/nftables/copyright',
    'deb/usr/share/doc/libnftables1/copyright',
    'deb/usr/share/doc/libmnl0/copyright',
    'deb/usr/share/doc/libnftnl11/copyright',
    'deb/usr/share/doc/libxtables12/copyright',
    'deb/usr/share/doc/libjansson4/copyright',
    'deb/usr/share/doc/libgmp10/copyright',
    'deb/usr/share/doc/libedit2/copyright',
    'deb/usr/share/doc/libbsd0/copyright',
    'deb/usr/share/doc/libmd0/copyright',
  ],
  description: "nft: the node's firewall and NAT rules (nf_tables), with its libraries, from Debian 12",
  mounted: true,
  homepage: 'https://netfilter.org/projects/nftables/',
  sources: [
    debianPackage(
      'pool/main/n/nftables/nftables_1.0.6-2+deb12u2_amd64.deb',
      '966ff20ce58c17163a771c02ddbca264291408f94c512bd85dd18da0ebdbe88c',
      '22e4f51d4b8ef8681ba42e1f4489ae8910d842c4',
    ),
    debianPackage(
      'pool/main/n/nftables/libnftables1_1.0.6-2+deb12u2_amd64.deb',
      '3a8223f9bfba99d97bf25296ac83de307ab036e1df63e5965f88809266851947',
      'a7175e13117533dedcddb5d76485b4b487d7c588',
    ),
    debianPackage(
      'pool/main/libm/libmnl/libmnl0_1.0.4-3_amd64.deb',
      '4581f42e3373cb72f9ea4e88163b17873afca614a6c6f54637e95aa75983ea7c',
      '8d18ae99cda05a339e431e1445946f42486ef312',
    ),
    debianPackage(
      'pool/main/libn/libnftnl/libnftnl11_1.2.4-2_amd64.deb',
      '9e619e1470a1915264e906020f3bfc046fd8458043b1342686d997b5078213af',
      '91837b54241ac1fb35e58c53b79fe31a0f2c9a49',
    ),
    debianPackage(
      'pool/main/i/iptables/libxtables12_1.8.9-2_amd64.deb',
      'cb841d66950a43af4a398625313d2f3da9065299c9738538de6c2c3495857040',
      '988213bfe2f5c338afc406cece81c415aa5b7b04',
    ),
    debianPackage(
      'pool/main/j/jansson/libjansson4_2.14-2_amd64.deb',
      '3fc9742f9f1a37bcb9931df6074b4d1483419ef832ad5349f47323e75fc27864',
      '732253912bf8e689e129c339a1d96d0e891b11cf',
    ),
    debianPackage(
      'pool/main/g/gmp/libgmp10_6.2.1+dfsg1-1.1_amd64.deb',
      '187aedef2ed763f425c1e523753b9719677633c7eede660401739e9c893482bd',
      '58624c62e76d2df27df02a8d2e52b6dec463ae53',
    ),
    debianPackage(
      'pool/main/libe/libedit/libedit2_3.1-20221030-2_amd64.deb',
      '1cf14abf2716d3279db12d0657a5737cf70074a1e71d3bdf73206625e3c89ce6',
      '7a810b1f6c6606e8454e96f650062ed29d1bf254',
    ),
    debianPackage(
      'pool/main/libb/libbsd/libbsd0_0.11.7-2_amd64.deb',
      'bb31cc8b40f962a85b2cec970f7f79cc704a1ae4bad24257a822055404b2c60b',
      '2ca1a6d76af4e7577fe50aed21e97ce95c61cefd',
    ),
    debianPackage(
      'pool/main/libm/libmd/libmd0_1.0.4-2_amd64.deb',
      '03539fd30c509e27101d13a56e52eda9062bdf1aefe337c07ab56def25a13eab',
      'd801416d4156f8515f18a204e837f62e14cf8aea',
    ),
  ],
  dependencies: ['glibc-runtime'],
  build: debInstall({
    keep: [
      'usr/sbin/nft',
      ...[
        'nftables.so.1',
        'mnl.so.0',
        'nftnl.so.11',
        'xtables.so.12',
        'jansson.so.4',
        'gmp.so.10',
        'edit.so.2',
        'bsd.so.0',
        'md.so.0',
      ].map((l) => `usr/lib/x86_64-linux-gnu/lib${l}*`),
    ],
  }),
});
