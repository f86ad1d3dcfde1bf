import { defineProfile } from '../build/profile/define.js';

// Small and fast to build: what QEMU's emulated machine needs, nothing more. The test suite boots it.
export default defineProfile({
  name: 'qemu',
  description: 'QEMU test machine: serial console, virtio, e1000, built-in drivers only',
  kernel: { base: 'tinyconfig', fragments: ['kernel/base.config', 'kernel/qemu.config'] },
  packages: ['busybox', 'redis', 'core0'],
  // gzip, not xz: this image is rebuilt on every edit and unpacked by an emulated CPU. Measured on its
  // rootfs (4.5 MB): xz 1.61 MB / 8.8 s, gzip 1.95 MB / 1.2 s to compress on a loaded 2-core host, and
  // the kernel inflates gzip well under xz's ~1 s in TCG.
  compression: 'gzip',
  cmdline: 'console=ttyS0 panic=10',
  variant: 'release',
  // A known password: this image exists to be booted by the tests, never on a real network.
  agent: { password: 'zos-qemu-test' },
  // Empty base URL: fetch the kernel next to boot.ipxe, wherever netboot/ is served from.
  netboot: { baseUrl: '', runmode: 'test', farmId: '0', extraArgs: '' },
  artifacts: ['efi', 'netboot', 'usb', 'usb-netboot', 'iso'],
});
