import { join } from 'node:path';
import { ZosError } from '../util/errors.js';
import { exists } from '../util/fs.js';
import { copyStamped, initramfsName, writeStamped } from './common.js';
import { GRUB_NET_MODULES, grubEfiImage } from './grub.js';
import { loaderForFirmware, signIfSigning } from './sign-efi.js';
import { grubBaseUrl, renderBootIpxe, renderGrubNetCfg } from './scripts.js';
import type { ArtifactInput, ArtifactWriter } from './types.js';
import { GRUB_VERIFY_EARLY_CONFIG, GRUB_VERIFY_MODULES, grubVerifyCfg, NETBOOT_PUBKEY } from './netboot-verify.js';

export const IPXE_BINARIES = ['ipxe.efi', 'ipxe.lkrn', 'snponly.efi', 'undionly.kpxe'] as const;

/** File name of the GRUB network loader for UEFI PXE (DHCP bootfile for UEFI clients). */
export const GRUB_NET_EFI = 'zos-net.efi';

/** Whether GRUB can reach the base URL (http, tftp or relative); https needs iPXE. */
export function grubCanFetch(baseUrl: string): boolean {
  try {
    grubBaseUrl(baseUrl);
    return true;
  } catch {
    return false;
  }
}

/** Verified netboot rests on GRUB; a base URL GRUB cannot fetch leaves only the unverified iPXE path. */
export function unverifiableBaseUrl(baseUrl: string): ZosError {
  return new ZosError(
    `--netboot-verify-key: the netboot base URL ${baseUrl} is not reachable by GRUB (no TLS), and only GRUB verifies signatures`,
    'Use an http:// or tftp:// base URL (signatures make plain HTTP safe), or build without --netboot-verify-key.',
  );
}

export async function checkIpxeDir(ipxeDir: string): Promise<void> {
  for (const f of IPXE_BINARIES) {
    if (!(await exists(join(ipxeDir, f)))) {
      throw new ZosError(
        `iPXE binary ${f} is missing from ${ipxeDir}`,
        'The ipxe recipe provides ipxe.efi, ipxe.lkrn, snponly.efi and undionly.kpxe.',
      );
    }
  }
}

/**
 * The GRUB x86_64-efi network loader: grub.cfg in a memdisk; GRUB brings the NIC up through the
 * firmware's SNP (efinet), does DHCP when it was not PXE-loaded, and fetches kernel + initramfs.
 * With `netbootVerify` it embeds the key and refuses a kernel or initramfs without a good `.sig`.
 */
export async function buildGrubNetEfi(input: ArtifactInput, out: string): Promise<void> {
  const verify = input.netbootVerify;
  const netCfg = renderGrubNetCfg({ ...input, initramfsName: initramfsName(input.initramfs) });
  const cfg = verify ? grubVerifyCfg(verify) + netCfg : netCfg;
  await grubEfiImage({
    out,
    modules: verify ? [...GRUB_NET_MODULES, ...GRUB_VERIFY_MODULES] : GRUB_NET_MODULES,
    prefix: '(memdisk)/boot/grub',
    memdisk: { 'boot/grub/grub.cfg': cfg },
    ...(verify ? { pubkey: verify.key, earlyConfig: GRUB_VERIFY_EARLY_CONFIG } : {}),
    platform: input.arch.grubEfiTarget,
    epoch: input.epoch,
    workDir: input.workDir,
    log: input.log,
  });
}

/** `src` as the build ships it: a signed copy when it is an EFI binary and the build signs. */
async function signedIfEfi(input: ArtifactInput, src: string, name: string): Promise<string> {
  return name.endsWith('.efi') ? loaderForFirmware(input, src, name) : src;
}

export const netbootWriter: ArtifactWriter = {
  kind: 'netboot',
  hostTools: ['grub-mkimage', 'tar'],
  reads: { kernel: true, initramfs: true, bootloader: true },
  async write(input) {
    await checkIpxeDir(input.ipxeDir);
    const dir = join(input.outDir, 'netboot');
    const initrd = initramfsName(input.initramfs);
    const files: string[] = [];
    const put = async (name: string, src: string) => {
      await copyStamped(src, join(dir, name), input.epoch);
      files.push(`netboot/${name}`);
    };
    await put('vmlinuz', input.vmlinuz);
    await put(initrd, input.initramfs);
    // EFI binaries (iPXE for UEFI PXE, zos-net.efi) are signed when the build signs: a firmware loads them.
    for (const b of IPXE_BINARIES) await put(b, await signedIfEfi(input, join(input.ipxeDir, b), b));
    await writeStamped(join(dir, 'boot.ipxe'), renderBootIpxe({ ...input, initramfsName: initrd }), input.epoch);
    files.push('netboot/boot.ipxe');
    if (input.netbootVerify) {
      await writeStamped(join(dir, NETBOOT_PUBKEY), input.netbootVerify.key, input.epoch);
      files.push(`netboot/${NETBOOT_PUBKEY}`);
    }
    if (grubCanFetch(input.netboot.baseUrl)) {
      await buildGrubNetEfi(input, join(dir, GRUB_NET_EFI));
      await signIfSigning(input, join(dir, GRUB_NET_EFI));
      files.push(`netboot/${GRUB_NET_EFI}`);
    } else if (input.netbootVerify) {
      throw unverifiableBaseUrl(input.netboot.baseUrl);
    } else {
      input.log.note(
        `netboot: ${GRUB_NET_EFI} not written: GRUB cannot fetch ${input.netboot.baseUrl} (no TLS); UEFI nodes need iPXE from DHCP`,
      );
    }
    return files.sort();
  },
};
