import { defineProfile } from '../build/profile/define.js';
import { BASE_FRAGMENTS, base } from './base.js';

// Real servers: common server NICs and storage controllers. No operator key is baked in: operators pass
// their public keys as zos.keys=ed25519:... on the kernel command line (netboot.extraArgs, or /zos/grub.cfg
// and /zos/syslinux.cfg on a stick), or set agent.operatorKeys in a profile of their own.
export default defineProfile({
  ...base,
  name: 'generic',
  description: 'Real machines: server NIC and storage drivers, large NR_CPUS',
  // Drivers are modules, loaded by hardware detection at boot (coldplug in rootfs-overlay/init).
  kernel: { base: 'defconfig', fragments: [...BASE_FRAGMENTS, 'kernel/generic.config'], modules: true },
  packages: [...base.packages, 'firmware'],
  cmdline: 'console=tty0 console=ttyS0,115200n8 panic=30',
});
