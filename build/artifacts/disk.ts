import { open } from 'node:fs/promises';
import type { StepLog } from '../util/exec.js';
import {
  MiB,
  alignUp,
  emptyImage,
  fileSize,
  planFat,
  reproEnv,
  stableGuid,
  stableSerial,
  writeFat,
  type FatFile,
} from './common.js';
import type { ArtifactInput } from './types.js';

/** syslinux's MBR boot code for GPT disks: boots the partition with the "legacy BIOS bootable" attribute. */
export const GPT_MBR = '/usr/lib/SYSLINUX/gptmbr.bin';
export const PART_START_SECTOR = 2048;
/** GPT type of an EFI system partition. */
const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

/**
 * A GPT disk image with one ESP (FAT) holding `files`, bootable by UEFI (EFI/BOOT/BOOTX64.EFI must be
 * among the files) and by BIOS (syslinux's gptmbr.bin in the MBR, syslinux installed in the ESP with
 * its files in `syslinuxDir`). Made with mtools, sfdisk and syslinux on plain files: no root, no loop
 * devices. Disk and partition GUIDs and the FAT serial are derived from version + epoch.
 */
export async function makeBootDisk(opts: {
  image: string;
  label: string;
  files: FatFile[];
  syslinuxDir: string;
  slackBytes?: number;
  input: Pick<ArtifactInput, 'version' | 'epoch' | 'workDir'>;
  purpose: string;
  log: StepLog;
}): Promise<void> {
  const { input, log } = opts;
  const env = reproEnv(input.epoch);
  const fat = await planFat({
    image: opts.image,
    label: opts.label,
    serial: stableSerial(input, `${opts.purpose}:fat`),
    files: opts.files,
    slackBytes: opts.slackBytes,
    hiddenSectors: PART_START_SECTOR,
    epoch: input.epoch,
    workDir: input.workDir,
    log,
  });
  const start = PART_START_SECTOR * 512;
  const diskSize = alignUp(start + fat.size + MiB, MiB);
  await emptyImage(opts.image, diskSize);
  // sfdisk, not sgdisk: sgdisk ends with a system-wide sync(), 1 s of every image written on a busy
  // build host; sfdisk syncs only the image. Attribute LegacyBIOSBootable is what gptmbr.bin boots.
  const table = [
    'label: gpt',
    `label-id: ${stableGuid(input, `${opts.purpose}:disk`)}`,
    `start=${PART_START_SECTOR}, size=${fat.size / 512}, type=${ESP_TYPE}, ` +
      `uuid=${stableGuid(input, `${opts.purpose}:part1`)}, name="ZOS", attrs="LegacyBIOSBootable"`,
  ].join('\n');
  await log.run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', opts.image], { env, input: `${table}\n` });
  // The FAT straight into the partition, then syslinux's GPT-aware boot code into the MBR (first 440 bytes).
  await writeFat(fat, start);
  const img = await open(opts.image, 'r+');
  try {
    const mbr = await open(GPT_MBR, 'r');
    try {
      const code = Buffer.alloc(440);
      await mbr.read(code, 0, 440, 0);
      await img.write(code, 0, 440, 0);
    } finally {
      await mbr.close();
    }
  } finally {
    await img.close();
  }
  await log.run('syslinux', ['--offset', String(start), '--directory', opts.syslinuxDir, '--install', opts.image], {
    env,
  });
  if ((await fileSize(opts.image)) !== diskSize)
    throw new Error(`${opts.image}: size changed while installing syslinux`);
}
