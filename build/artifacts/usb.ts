import { join } from 'node:path';
import { initramfsName } from './common.js';
import { makeBootDisk } from './disk.js';
import { GRUB_DISK_MODULES, grubEfiImage } from './grub.js';
import { renderGrubDiskCfg, renderSyslinuxCfg } from './localboot.js';
import type { ArtifactWriter } from './types.js';

/**
 * usb.img: GPT disk with one ESP. UEFI: EFI/BOOT/BOOTX64.EFI is GRUB, which reads /zos/grub.cfg from
 * the same partition. BIOS: gptmbr.bin → syslinux, which reads /zos/syslinux.cfg. Both configs are
 * plain text on the FAT, editable after writing the stick.
 */
export const usbWriter: ArtifactWriter = {
  kind: 'usb',
  hostTools: ['mformat', 'sgdisk', 'syslinux', 'grub-mkimage'],
  async write(input) {
    const grub = join(input.workDir, 'usb-bootx64.efi');
    await grubEfiImage({
      out: grub,
      modules: GRUB_DISK_MODULES,
      prefix: '/zos',
      platform: input.arch.grubEfiTarget,
      epoch: input.epoch,
      workDir: input.workDir,
      log: input.log,
    });
    await makeBootDisk({
      image: join(input.outDir, 'usb.img'),
      label: 'ZOS',
      syslinuxDir: '/zos',
      purpose: 'usb',
      input,
      log: input.log,
      files: [
        { src: grub, dest: `EFI/BOOT/${input.arch.efiBootFile}` },
        { src: { content: renderGrubDiskCfg(input, '/zos', 'USB disk') }, dest: 'zos/grub.cfg' },
        { src: { content: renderSyslinuxCfg(input, '/zos', 'USB disk') }, dest: 'zos/syslinux.cfg' },
        { src: input.vmlinuz, dest: 'zos/vmlinuz' },
        { src: input.initramfs, dest: `zos/${initramfsName(input.initramfs)}` },
      ],
    });
    return ['usb.img'];
  },
};
