import { join } from 'node:path';
import { initramfsName } from './common.js';
import { makeBootDisk } from './disk.js';
import { GRUB_DISK_MODULES, GRUB_NET_MODULES, grubEfiImage } from './grub.js';
import { buildGrubNetEfi, checkIpxeDir, grubCanFetch, unverifiableBaseUrl } from './netboot.js';
import { renderBootIpxe, renderGrubNetCfg } from './scripts.js';
import { loaderForFirmware, signIfSigning } from './sign-efi.js';
import type { ArtifactWriter } from './types.js';

/**
 * usb-netboot.img: a small GPT disk that boots the node from the network.
 * BIOS: syslinux loads ipxe.lkrn with /zos/boot.ipxe as its initrd; iPXE runs that script.
 * UEFI: GRUB with its network stack reads /zos/grub.cfg (DHCP, fetch kernel + initramfs over http/tftp).
 * If the base URL is https (GRUB has no TLS), BOOTX64.EFI is ipxe.efi instead, which does plain
 * DHCP + `autoboot`: the DHCP server must then hand it the boot script (docs/artifacts.md).
 * Verified boot (`netbootVerify`): BOOTX64.EFI is zos-net.efi's GRUB, key and config inside.
 */
export const usbNetbootWriter: ArtifactWriter = {
  kind: 'usb-netboot',
  hostTools: ['mformat', 'sfdisk', 'syslinux', 'grub-mkimage'],
  reads: { kernel: false, initramfs: false, bootloader: true },
  async write(input) {
    await checkIpxeDir(input.ipxeDir);
    const script = renderBootIpxe({
      ...input,
      initramfsName: initramfsName(input.initramfs),
      emptyBase: 'next-server',
    });
    const syslinuxCfg = [
      `# zos-build ${input.version}: BIOS network boot (syslinux -> iPXE running /zos/boot.ipxe).`,
      '# The base URL, runmode and kernel arguments are in /zos/boot.ipxe; edit them there.',
      'SERIAL 0 115200',
      'PROMPT 0',
      'TIMEOUT 0',
      'DEFAULT zos',
      'LABEL zos',
      `  SAY zos-build ${input.version}: starting iPXE (BIOS)`,
      '  LINUX /zos/ipxe.lkrn',
      '  INITRD /zos/boot.ipxe',
      '',
    ].join('\n');
    const files = [
      { src: { content: script }, dest: 'zos/boot.ipxe' },
      { src: { content: syslinuxCfg }, dest: 'zos/syslinux.cfg' },
      { src: join(input.ipxeDir, 'ipxe.lkrn'), dest: 'zos/ipxe.lkrn' },
    ];
    if (input.netbootVerify) {
      if (!grubCanFetch(input.netboot.baseUrl)) throw unverifiableBaseUrl(input.netboot.baseUrl);
      // A config on the stick would need its own signature: the verifying GRUB carries it inside.
      const grub = join(input.workDir, 'usb-netboot-bootx64.efi');
      await buildGrubNetEfi(input, grub);
      files.push({ src: grub, dest: `EFI/BOOT/${input.arch.efiBootFile}` });
    } else if (grubCanFetch(input.netboot.baseUrl)) {
      const grub = join(input.workDir, 'usb-netboot-bootx64.efi');
      const modules = [...new Set([...GRUB_DISK_MODULES, ...GRUB_NET_MODULES])];
      await grubEfiImage({
        out: grub,
        modules,
        prefix: '/zos',
        platform: input.arch.grubEfiTarget,
        epoch: input.epoch,
        workDir: input.workDir,
        log: input.log,
      });
      await signIfSigning(input, grub);
      files.push({ src: grub, dest: `EFI/BOOT/${input.arch.efiBootFile}` });
      files.push({
        src: { content: renderGrubNetCfg({ ...input, initramfsName: initramfsName(input.initramfs) }) },
        dest: 'zos/grub.cfg',
      });
    } else {
      input.log.note(
        `usb-netboot: base URL ${input.netboot.baseUrl} is not reachable by GRUB; UEFI side is ipxe.efi + DHCP autoboot`,
      );
      const ipxe = await loaderForFirmware(input, join(input.ipxeDir, 'ipxe.efi'), 'ipxe.efi');
      files.push({ src: ipxe, dest: `EFI/BOOT/${input.arch.efiBootFile}` });
    }
    await makeBootDisk({
      image: join(input.outDir, 'usb-netboot.img'),
      label: 'ZOSNET',
      syslinuxDir: '/zos',
      purpose: 'usb-netboot',
      slackBytes: 2 * 1024 * 1024,
      input,
      log: input.log,
      files,
    });
    return ['usb-netboot.img'];
  },
};
