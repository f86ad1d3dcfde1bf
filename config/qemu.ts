import { defineProfile } from '../build/profile/define.js';
import { BASE_FRAGMENTS, base } from './base.js';

// Small and fast to build: what QEMU's emulated machine needs, nothing more. The test suite boots it.
export default defineProfile({
  ...base,
  name: 'qemu',
  description: 'QEMU test machine: serial console, virtio built in, e1000/e1000e as modules (coldplug)',
  kernel: { base: 'tinyconfig', fragments: [...BASE_FRAGMENTS, 'kernel/qemu.config'], modules: true },
  // zstd: this image is rebuilt on every edit and unpacked by an emulated CPU. Measured on its 31 MB
  // cpio (with the node userland) on the loaded 2-core host: gzip -9 13.9 MB (over the 12 MB budget),
  // zstd -19 9.7 MB in 25 s, zstd -12 11.1 MB in 3.2 s; zstd unpacks in the kernel about as fast as gzip.
  compression: 'zstd',
  // quiet: the kernel's own boot messages cost 0.3-1 s of every TCG boot, each character polled out
  // through the emulated UART. Errors still reach the console; the whole log is `dmesg` on the node.
  // initmem_poison=0 (recipes/linux/0001-initmem-poison-parameter.patch): freed init memory is not
  // poison-filled first; under TCG that fill hits translated code and cost 0.44 s of every boot.
  // The test machine has one CPU: noreplace-smp keeps the kernel from patching its lock prefixes
  // out (thousands of text writes, 0.1 s under TCG); no_timer_check and noapictimer skip the timer
  // IRQ check and the local APIC timer's calibration (0.1 s of ticks), as VM images commonly do.
  cmdline: 'console=ttyS0 panic=10 quiet initmem_poison=0 noreplace-smp no_timer_check noapictimer',
  // The public half of the suite's throwaway operator key (test/fixtures/operator-key/, never used
  // anywhere else): this image exists to be booted by the tests, never on a real network.
  agent: { operatorKeys: ['ed25519:6lerb0hUmgAEOGO3ElAPgtEej-d_zTEv2Pf_YIDViS0'] },
  netboot: { ...base.netboot, runmode: 'test', farmId: '0' },
});
