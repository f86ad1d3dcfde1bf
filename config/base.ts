import type { ProfileSpec } from '../build/profile/types.js';

/**
 * What every profile shares; a profile spreads it and states only what differs
 * (`defineProfile({ ...base, name: ..., kernel: ..., packages: [...base.packages, 'x'] })`).
 * Not a profile itself (no default export).
 */
export const base = {
  arch: 'x86_64',
  /**
   * The image's userland: the shell and tools, the agent's Redis, the agent (PID 1), and what the
   * agent's commands manage a node with (docs/userland.md): disks and filesystems, network, firewall,
   * DHCP, kernel modules, hardware inventory, TLS roots.
   */
  packages: [
    'busybox',
    'redis',
    'core0',
    'util-linux',
    'e2fsprogs',
    'btrfs-progs',
    'parted',
    'iproute2',
    'nftables',
    'dnsmasq',
    'ethtool',
    'kmod',
    'dmidecode',
    'smartmontools',
    'ca-certificates',
  ],
  compression: 'xz',
  variant: 'release',
  agent: {},
  // Empty base URL: fetch the kernel next to boot.ipxe, wherever netboot/ is served from. Set it
  // (http:// for UEFI GRUB netboot) to serve the kernel from elsewhere.
  netboot: { baseUrl: '', runmode: 'prod', farmId: '', extraArgs: '' },
  artifacts: ['efi', 'netboot', 'usb', 'usb-netboot', 'iso'],
} satisfies Partial<ProfileSpec>;

/** Kernel fragments every profile starts from. */
export const BASE_FRAGMENTS = ['kernel/base.config'];
