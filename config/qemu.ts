import { defineProfile } from '../build/profile/define.js';
import { BASE_FRAGMENTS, base } from './base.js';

// Small and fast to build: what QEMU's emulated machine needs, nothing more. The test suite boots it.
export default defineProfile({
  ...base,
  name: 'qemu',
  description: 'QEMU test machine: serial console, virtio, e1000, built-in drivers only',
  kernel: { base: 'tinyconfig', fragments: [...BASE_FRAGMENTS, 'kernel/qemu.config'] },
  // gzip, not xz: this image is rebuilt on every edit and unpacked by an emulated CPU. Measured on its
  // rootfs (4.5 MB): xz 1.61 MB / 8.8 s, gzip 1.95 MB / 1.2 s to compress on a loaded 2-core host, and
  // the kernel inflates gzip well under xz's ~1 s in TCG.
  compression: 'gzip',
  cmdline: 'console=ttyS0 panic=10',
  // A known password: this image exists to be booted by the tests, never on a real network.
  agent: { password: 'zos-qemu-test' },
  netboot: { ...base.netboot, runmode: 'test', farmId: '0' },
});
