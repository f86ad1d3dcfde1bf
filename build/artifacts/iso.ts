import { join } from 'node:path';
import {
  copyStamped,
  initramfsName,
  makeFat,
  reproEnv,
  stableBytes,
  stableSerial,
  stampTree,
  writeStamped,
} from './common.js';
import { localUefiLoader } from './local-uefi.js';
import { renderGrubDiskCfg, renderSyslinuxCfg } from './localboot.js';
import type { ArtifactInput, ArtifactWriter } from './types.js';

export const ISOHDPFX = '/usr/lib/ISOLINUX/isohdpfx.bin';
export const ISOLINUX_BIN = '/usr/lib/ISOLINUX/isolinux.bin';
export const LDLINUX_C32 = '/usr/lib/syslinux/modules/bios/ldlinux.c32';

/** ISO 9660 volume id: upper case, digits and _, at most 32 characters. */
export function isoVolumeId(version: string): string {
  return `ZOS_${version.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`.slice(0, 32);
}

/** File GRUB searches for to find the ISO's file system (unique per build). */
export function isoMarker(input: Pick<ArtifactInput, 'version' | 'epoch'>): string {
  return `/zos/id-${stableBytes(input, 'iso:marker', 6).toString('hex')}`;
}

/**
 * zos.iso: hybrid ISO (CD and disk). BIOS: isolinux (El Torito) / isohdpfx.bin (as a disk).
 * UEFI: El Torito EFI image (FAT with EFI/BOOT/BOOTX64.EFI = GRUB), also the ESP of the hybrid GPT;
 * GRUB searches the marker file and reads /zos/grub.cfg from the ISO file system (a signed build:
 * BOOTX64.EFI is the signed zos.efi instead, see local-uefi.ts).
 * All dates come from SOURCE_DATE_EPOCH (xorriso honours it for volume dates, file dates and UUIDs).
 */
export const isoWriter: ArtifactWriter = {
  kind: 'iso',
  hostTools: ['xorriso', 'mformat', 'grub-mkimage'],
  reads: { kernel: true, initramfs: true, bootloader: false },
  async write(input) {
    const tree = join(input.workDir, 'iso-tree');
    const marker = isoMarker(input);
    const initrd = initramfsName(input.initramfs);
    await copyStamped(ISOLINUX_BIN, join(tree, 'isolinux/isolinux.bin'), input.epoch);
    await copyStamped(LDLINUX_C32, join(tree, 'isolinux/ldlinux.c32'), input.epoch);
    await writeStamped(join(tree, 'isolinux/isolinux.cfg'), renderSyslinuxCfg(input, '/zos', 'CD/ISO'), input.epoch);
    await copyStamped(input.vmlinuz, join(tree, 'zos/vmlinuz'), input.epoch);
    await copyStamped(input.initramfs, join(tree, `zos/${initrd}`), input.epoch);
    await writeStamped(join(tree, marker), `zos-build ${input.version}\n`, input.epoch);

    const loader = await localUefiLoader(
      input,
      'iso',
      `search --no-floppy --file --set=root ${marker}\nset prefix=($root)/zos\n`,
    );
    if (loader.grub)
      await writeStamped(join(tree, 'zos/grub.cfg'), renderGrubDiskCfg(input, '/zos', 'CD/ISO'), input.epoch);
    await makeFat({
      image: join(tree, 'boot/efiboot.img'),
      label: 'ZOSEFI',
      serial: stableSerial(input, 'iso:efi'),
      files: [{ src: loader.file, dest: `EFI/BOOT/${input.arch.efiBootFile}` }],
      slackBytes: 0,
      epoch: input.epoch,
      workDir: input.workDir,
      log: input.log,
    });
    await copyStamped(loader.file, join(tree, 'EFI/BOOT', input.arch.efiBootFile), input.epoch);
    await stampTree(tree, input.epoch);
    const env = reproEnv(input.epoch);
    await input.log.run(
      'xorriso',
      [
        '-as',
        'mkisofs',
        '-o',
        join(input.outDir, 'zos.iso'),
        '-V',
        isoVolumeId(input.version),
        '-J',
        '-joliet-long',
        '-r',
        '-isohybrid-mbr',
        ISOHDPFX,
        '-b',
        'isolinux/isolinux.bin',
        '-c',
        'isolinux/boot.cat',
        '-no-emul-boot',
        '-boot-load-size',
        '4',
        '-boot-info-table',
        '-eltorito-alt-boot',
        '-e',
        'boot/efiboot.img',
        '-no-emul-boot',
        '-isohybrid-gpt-basdat',
        tree,
      ],
      { env },
    );
    return ['zos.iso'];
  },
};
