import { defineProfile } from '../build/profile/define.js';

// Real servers: common server NICs and storage controllers. The Redis password is not baked in:
// operators pass zos.password= on the kernel command line (netboot.extraArgs, or /zos/grub.cfg and /zos/syslinux.cfg on a stick).
export default defineProfile({
  name: 'generic',
  description: 'Real machines: server NIC and storage drivers, large NR_CPUS',
  kernel: { base: 'defconfig', fragments: ['kernel/base.config', 'kernel/generic.config'] },
  packages: ['busybox', 'redis', 'core0', 'firmware'],
  compression: 'xz',
  cmdline: 'console=tty0 console=ttyS0,115200n8 panic=30',
  variant: 'release',
  agent: {},
  // Empty base URL: the kernel is fetched next to boot.ipxe, so netboot/ works from any HTTP or TFTP
  // server as it is. Set it (http:// for UEFI GRUB netboot) to serve the kernel from elsewhere.
  netboot: { baseUrl: '', runmode: 'prod', farmId: '', extraArgs: '' },
  artifacts: ['efi', 'netboot', 'usb', 'usb-netboot', 'iso'],
});
