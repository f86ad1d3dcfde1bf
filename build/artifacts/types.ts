import type { ArchFacts } from '../arch.js';
import type { ArtifactKind } from '../profile/types.js';
import type { EfiSigner } from '../sign/efi-signer.js';
import type { StepLog } from '../util/exec.js';
import type { NetbootVerifyKey } from './netboot-verify.js';

export interface NetbootSettings {
  /** Where the node fetches `vmlinuz` and the initramfs; empty = next to the boot script. */
  baseUrl: string;
  runmode: string;
  farmId: string;
  extraArgs: string;
}

export interface ArtifactInput {
  /** The kernel image with an EFI stub (CONFIG_EFI_STUB=y), e.g. x86's bzImage; '' unless `reads.kernel`. */
  vmlinuz: string;
  /** The target architecture (EFI file names, GRUB platform). */
  arch: ArchFacts;
  /**
   * Compressed newc cpio, e.g. initramfs.cpio.xz; its extension is kept in netboot/. A writer that
   * does not read it (`reads.initramfs` false) gets its file name only, for the scripts it writes.
   */
  initramfs: string;
  /** Full kernel command line (bootCommandLine()), e.g. "console=ttyS0 rdinit=/init runmode=prod"; used as is. */
  cmdline: string;
  /** Project version, e.g. 0.1.0 or 0.1.0-dev.3+gabc1234. */
  version: string;
  netboot: NetbootSettings;
  /** Verified network boot: GRUB's network images embed this key and enforce signatures. */
  netbootVerify?: NetbootVerifyKey;
  /** Holds ipxe.efi, ipxe.lkrn, undionly.kpxe, snponly.efi (the bootloader recipe's); '' unless `reads.bootloader`. */
  ipxeDir: string;
  /** Files are written here. */
  outDir: string;
  /** Scratch space, private to this writer. */
  workDir: string;
  /** SOURCE_DATE_EPOCH: every timestamp inside an image comes from it. */
  epoch: number;
  log: StepLog;
  /**
   * Secure Boot: signs every EFI binary a firmware loads (docs/secure-boot.md). Absent: unsigned.
   * USB and ISO then start the signed zos.efi as EFI/BOOT/BOOTX64.EFI instead of GRUB.
   */
  signer?: EfiSigner;
}

export interface ArtifactWriter {
  kind: ArtifactKind;
  /** Host commands the writer runs (their versions enter the fingerprint). */
  hostTools: string[];
  /**
   * The build outputs the writer reads: its step depends on exactly these, so an overlay edit (a new
   * initramfs) does not rewrite an artifact that only names the initramfs in a script.
   */
  reads: { kernel: boolean; initramfs: boolean; bootloader: boolean };
  /** Writes the artifact; returns the files written, relative to outDir, sorted. */
  write(input: ArtifactInput): Promise<string[]>;
}
