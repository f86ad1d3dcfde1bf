import { defineRecipe } from '../../build/recipe/define.js';
import { makeKind } from '../../build/steps/make-kind.js';

// Debian's orig tarball is upstream's dnsmasq-2.90.tar.xz unchanged. The default feature set (DHCP,
// DHCPv6, DNS cache, TFTP; no DBus, no DNSSEC, no IDN, no i18n): nothing beyond libc is linked.
export default defineRecipe({
  name: 'dnsmasq',
  version: '2.90',
  cpe: { vendor: 'thekelleys', product: 'dnsmasq' },
  license: 'GPL-2.0-only OR GPL-3.0-only',
  licenseFiles: ['COPYING', 'COPYING-v3'],
  description: 'dnsmasq: DHCP and DNS for the networks the node sets up for its workloads',
  homepage: 'https://thekelleys.org.uk/dnsmasq/doc.html',
  sources: [
    {
      file: 'dnsmasq_${version}.orig.tar.xz',
      sha256: '8e50309bd837bfec9649a812e066c09b6988b73d749b7d293c06c57d46a109e4',
      locations: [
        'https://thekelleys.org.uk/dnsmasq/dnsmasq-${version}.tar.xz',
        'debian:pool/main/d/dnsmasq/dnsmasq_${version}.orig.tar.xz',
        'https://snapshot.debian.org/file/864374a3e573d4997753b34290d50072463570c9',
      ],
    },
  ],
  dependencies: ['linux-headers'],
  // The Makefile assigns CFLAGS and LDFLAGS itself, so the toolchain's go on the command line. (Its feature
  // probe, bld/pkg-wrapper, preprocesses config.h without CFLAGS and prints "linux/version.h: No such file"
  // errors: harmless, it only decides that the optional DBus/IDN/... libraries are off, as they are.)
  build: makeKind({ makeVars: true, make: ['PREFIX=/usr'], keep: ['usr/sbin/dnsmasq'] }),
});
