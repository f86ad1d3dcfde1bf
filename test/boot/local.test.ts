/** Boots from local media: kernel + initramfs directly, zos.efi, usb.img, zos.iso (BIOS and UEFI). */
import { after, before, describe, test } from 'node:test';
import { rm } from 'node:fs/promises';
import { artifact, bootExpectBanner, directCmdline, espWith, initramfsPath, need, tempDir } from './helpers.js';

describe('local boot', () => {
  let scratch = '';
  before(async () => {
    scratch = await tempDir('local');
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('kernel + initramfs, direct (BIOS)', async (t) => {
    if (!need(t, 'vmlinuz')) return;
    await bootExpectBanner(t, 'direct-bios', {
      firmware: 'bios',
      kernel: artifact('vmlinuz'),
      initrd: initramfsPath(),
      append: directCmdline(),
    });
  });

  test('zos.efi (UKI) started by OVMF from an ESP', async (t) => {
    if (!need(t, 'zos.efi')) return;
    // The firmware's removable-media path: a FAT disk with the UKI as EFI/BOOT/BOOTX64.EFI.
    const esp = await espWith(artifact('zos.efi'), scratch, 'esp');
    await bootExpectBanner(t, 'efi-uefi', { firmware: 'uefi', disk: { file: esp, as: 'virtio' } });
  });

  for (const firmware of ['bios', 'uefi'] as const) {
    test(`usb.img as a USB stick (${firmware})`, async (t) => {
      if (!need(t, 'usb.img')) return;
      await bootExpectBanner(t, `usb-${firmware}`, { firmware, disk: { file: artifact('usb.img'), as: 'usb' } });
    });
  }

  for (const firmware of ['bios', 'uefi'] as const) {
    test(`zos.iso as a CD (${firmware})`, async (t) => {
      if (!need(t, 'zos.iso')) return;
      await bootExpectBanner(t, `iso-cd-${firmware}`, { firmware, cdrom: artifact('zos.iso') });
    });
  }

  test('zos.iso written to a USB stick (hybrid, BIOS)', async (t) => {
    if (!need(t, 'zos.iso')) return;
    await bootExpectBanner(t, 'iso-usb-bios', { firmware: 'bios', disk: { file: artifact('zos.iso'), as: 'usb' } });
  });
});
