import { initramfsName } from './common.js';
import { grubQuote } from './grub.js';
import type { ArtifactInput } from './types.js';

/** syslinux/isolinux config booting the kernel + initramfs in `dir` at once, with serial output. */
export function renderSyslinuxCfg(input: ArtifactInput, dir: string, what: string): string {
  const initrd = initramfsName(input.initramfs);
  return [
    `# zos-build ${input.version}: BIOS boot config of this ${what} (syslinux).`,
    '# Kernel arguments (runmode, farm id, ...) are on the APPEND line; edit them here.',
    'SERIAL 0 115200',
    'PROMPT 0',
    'TIMEOUT 0',
    'DEFAULT zos',
    'LABEL zos',
    `  SAY zos-build ${input.version}: booting from ${what} (BIOS)`,
    `  LINUX ${dir}/vmlinuz`,
    `  INITRD ${dir}/${initrd}`,
    `  APPEND ${input.cmdline}`,
    '',
  ].join('\n');
}

/** grub.cfg booting the kernel + initramfs in `dir` of $root (UEFI side). */
export function renderGrubDiskCfg(input: ArtifactInput, dir: string, what: string): string {
  const initrd = initramfsName(input.initramfs);
  const args = input.cmdline.split(/\s+/).map(grubQuote).join(' ');
  return [
    `# zos-build ${input.version}: UEFI boot config of this ${what} (GRUB).`,
    '# Kernel arguments (runmode, farm id, ...) are on the linux line; edit them here.',
    'set timeout=0',
    `echo "zos-build ${input.version}: booting from ${what} (UEFI), $root"`,
    `linux ${dir}/vmlinuz ${args}`,
    `initrd ${dir}/${initrd}`,
    'boot',
    '',
  ].join('\n');
}
