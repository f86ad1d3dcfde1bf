import { open, rm, truncate } from 'node:fs/promises';
import type { StepLog } from '../util/exec.js';
import {
  MiB,
  alignUp,
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

/**
 * A GPT disk image with one ESP (FAT) holding `files`, bootable by UEFI (EFI/BOOT/BOOTX64.EFI must be
 * among the files) and by BIOS (syslinux's gptmbr.bin in the MBR, syslinux installed in the ESP with
 * its files in `syslinuxDir`). Made with mtools, sgdisk and syslinux on plain files: no root, no loop
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
  await rm(opts.image, { force: true });
  await (await open(opts.image, 'w')).close();
  await truncate(opts.image, diskSize);
  const last = PART_START_SECTOR + fat.size / 512 - 1;
  await log.run(
    'sgdisk',
    [
      '--clear',
      '--disk-guid',
      stableGuid(input, `${opts.purpose}:disk`),
      '--new',
      `1:${PART_START_SECTOR}:${last}`,
      '--typecode',
      '1:EF00',
      '--change-name',
      '1:ZOS',
      '--partition-guid',
      `1:${stableGuid(input, `${opts.purpose}:part1`)}`,
      '--attributes',
      '1:set:2',
      opts.image,
    ],
    { env },
  );
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
