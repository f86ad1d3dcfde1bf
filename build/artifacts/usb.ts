import { join } from 'node:path';
import { initramfsName, type FatFile } from './common.js';
import { makeBootDisk } from './disk.js';
import { localUefiLoader } from './local-uefi.js';
import { renderGrubDiskCfg, renderSyslinuxCfg } from './localboot.js';
import type { ArtifactWriter } from './types.js';

/**
 * usb.img: GPT disk with one ESP. UEFI: EFI/BOOT/BOOTX64.EFI is GRUB, which reads /zos/grub.cfg from
 * the same partition (a signed build: the signed zos.efi instead, see local-uefi.ts). BIOS:
 * gptmbr.bin → syslinux, which reads /zos/syslinux.cfg. Both configs are plain text on the FAT,
 * editable after writing the stick.
 */
export const usbWriter: ArtifactWriter = {
  kind: 'usb',
  hostTools: ['mformat', 'sfdisk', 'syslinux', 'grub-mkimage'],
  reads: { kernel: true, initramfs: true, bootloader: false },
  async write(input) {
    const loader = await localUefiLoader(input, 'usb');
    const files: FatFile[] = [
      { src: loader.file, dest: `EFI/BOOT/${input.arch.efiBootFile}` },
      { src: { content: renderSyslinuxCfg(input, '/zos', 'USB disk') }, dest: 'zos/syslinux.cfg' },
      { src: input.vmlinuz, dest: 'zos/vmlinuz' },
      { src: input.initramfs, dest: `zos/${initramfsName(input.initramfs)}` },
    ];
    if (loader.grub)
      files.push({ src: { content: renderGrubDiskCfg(input, '/zos', 'USB disk') }, dest: 'zos/grub.cfg' });
    await makeBootDisk({
      image: join(input.outDir, 'usb.img'),
      label: 'ZOS',
      syslinuxDir: '/zos',
      purpose: 'usb',
      input,
      log: input.log,
      files,
    });
    return ['usb.img'];
  },
};
