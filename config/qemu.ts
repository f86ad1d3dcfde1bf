import { defineProfile } from '../build/profile/define.js';

// Small and fast to build: what QEMU's emulated machine needs, nothing more. The test suite boots it.
export default defineProfile({
  name: 'qemu',
  description: 'QEMU test machine: serial console, virtio, e1000, built-in drivers only',
  kernel: { base: 'tinyconfig', fragments: ['kernel/base.config', 'kernel/qemu.config'] },
  packages: ['busybox', 'redis', 'core0', 'zlib', 'expat'],
  compression: 'xz',
  cmdline: 'console=ttyS0 panic=10',
  variant: 'release',
  // A known password: this image exists to be booted by the tests, never on a real network.
  agent: { password: 'zos-qemu-test' },
  // Empty base URL: fetch the kernel next to boot.ipxe, wherever netboot/ is served from.
  netboot: { baseUrl: '', runmode: 'test', farmId: '0', extraArgs: '' },
  artifacts: ['efi', 'netboot', 'usb', 'usb-netboot', 'iso'],
});
