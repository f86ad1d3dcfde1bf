import { defineProfile } from '../build/profile/define.js';
import { BASE_FRAGMENTS, base } from './base.js';

// Small and fast to build: what QEMU's emulated machine needs, nothing more. The test suite boots it.
export default defineProfile({
  ...base,
  name: 'qemu',
  description: 'QEMU test machine: serial console, virtio, e1000, built-in drivers only',
  kernel: { base: 'tinyconfig', fragments: [...BASE_FRAGMENTS, 'kernel/qemu.config'] },
  // zlib and expat prove the userland build kinds (makeKind, autotools) in the booted image.
  packages: [...base.packages, 'zlib', 'expat'],
  cmdline: 'console=ttyS0 panic=10',
  // A known password: this image exists to be booted by the tests, never on a real network.
  agent: { password: 'zos-qemu-test' },
  netboot: { ...base.netboot, runmode: 'test', farmId: '0' },
});
