import { join } from 'node:path';
import { writeZosEfi } from './efi.js';
import { GRUB_DISK_MODULES, grubEfiImage } from './grub.js';
import type { ArtifactInput } from './types.js';

export interface LocalUefiLoader {
  /** The file to install as EFI/BOOT/BOOTX64.EFI (or the architecture's name for it). */
  file: string;
  /** Whether it is GRUB, which then reads /zos/grub.cfg from the medium. */
  grub: boolean;
}

/**
 * The UEFI loader of a local medium (USB stick, CD/ISO). Unsigned build: GRUB, reading the editable
 * /zos/grub.cfg. Signed build (Secure Boot): the signed zos.efi itself, so the firmware verifies
 * kernel, initramfs and command line under one signature. GRUB is not an option there: without shim
 * it refuses, under Secure Boot, to load any kernel ("shim_lock protocol not found"; see
 * docs/secure-boot.md).
 */
export async function localUefiLoader(
  input: ArtifactInput,
  purpose: string,
  earlyConfig?: string,
): Promise<LocalUefiLoader> {
  if (input.signer) {
    const file = join(input.workDir, `${purpose}-zos.efi`);
    await writeZosEfi(input, file);
    return { file, grub: false };
  }
  const file = join(input.workDir, `${purpose}-bootx64.efi`);
  await grubEfiImage({
    out: file,
    modules: GRUB_DISK_MODULES,
    prefix: '/zos',
    earlyConfig,
    platform: input.arch.grubEfiTarget,
    epoch: input.epoch,
    workDir: input.workDir,
    log: input.log,
  });
  return { file, grub: true };
}
