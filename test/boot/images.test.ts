/**
 * Checks the images with independent tools (xorriso, mtools, sgdisk, fdisk, objdump) and that
 * writing the same artifact twice gives the same bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ArtifactKind } from '../../build/profile/types.js';
import { artifact, execFileP, expectedVersion, need, tempDir, writeArtifact } from './helpers.js';

async function run(cmd: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await execFileP(cmd, args, {
    maxBuffer: 16 << 20,
    env: { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C' },
  });
  return `${stdout}${stderr}`;
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Byte offset of partition 1 from `sfdisk --json` (independent of our writer). */
async function firstPartitionOffset(image: string): Promise<number> {
  const table = JSON.parse(await run('sfdisk', ['--json', image])) as {
    partitiontable: { sectorsize?: number; partitions: { start: number }[] };
  };
  return table.partitiontable.partitions[0]!.start * (table.partitiontable.sectorsize ?? 512);
}

describe('image structure', () => {
  test('zos.iso: El Torito has a BIOS and a UEFI boot entry; ISO holds kernel, initramfs, configs', async (t) => {
    if (!need(t, 'zos.iso')) return;
    const report = await run('xorriso', [
      '-indev',
      artifact('zos.iso'),
      '-report_el_torito',
      'plain',
      '-report_system_area',
      'plain',
    ]);
    assert.match(report, /El Torito boot img :\s+1\s+BIOS\s+y/);
    assert.match(report, /El Torito boot img :\s+2\s+UEFI\s+y/);
    assert.match(report, /MBR partition table|GPT/);
    const files = await run('xorriso', ['-indev', artifact('zos.iso'), '-find', '/', '-type', 'f']);
    for (const f of [
      '/isolinux/isolinux.bin',
      '/isolinux/isolinux.cfg',
      '/zos/vmlinuz',
      '/zos/grub.cfg',
      '/boot/efiboot.img',
      '/EFI/BOOT/BOOTX64.EFI',
    ]) {
      assert.ok(files.includes(`'${f}'`), `${f} missing from zos.iso:\n${files}`);
    }
  });

  for (const img of ['usb.img', 'usb-netboot.img']) {
    test(`${img}: GPT with an ESP; FAT holds the boot files`, async (t) => {
      if (!need(t, img)) return;
      const gpt = await run('sgdisk', ['-p', '-i', '1', artifact(img)]);
      assert.match(gpt, /Partition GUID code: C12A7328-F81F-11D2-BA4B-00A0C93EC93B \(EFI system partition\)/);
      assert.match(gpt, /Attribute flags: 0000000000000004/, 'legacy BIOS bootable attribute (for gptmbr.bin)');
      const fdisk = await run('fdisk', ['-l', artifact(img)]);
      assert.match(fdisk, /Disklabel type: gpt/);
      const off = await firstPartitionOffset(artifact(img));
      const root = await run('mdir', ['-i', `${artifact(img)}@@${off}`, '-/', '-a', '-b', '::/']);
      const want =
        img === 'usb.img'
          ? [
              '::/EFI/BOOT/BOOTX64.EFI',
              '::/zos/vmlinuz',
              '::/zos/grub.cfg',
              '::/zos/syslinux.cfg',
              '::/zos/ldlinux.sys',
            ]
          : [
              '::/EFI/BOOT/BOOTX64.EFI',
              '::/zos/ipxe.lkrn',
              '::/zos/boot.ipxe',
              '::/zos/syslinux.cfg',
              '::/zos/ldlinux.sys',
            ];
      for (const f of want)
        assert.ok(root.toLowerCase().includes(f.toLowerCase()), `${f} missing from ${img}:\n${root}`);
    });
  }

  test('zos.efi: PE image with .osrel/.cmdline/.linux/.initrd and the version in .osrel', async (t) => {
    if (!need(t, 'zos.efi')) return;
    const headers = await run('objdump', ['-h', artifact('zos.efi')]);
    for (const s of ['.osrel', '.cmdline', '.linux', '.initrd'])
      assert.match(headers, new RegExp(`\\s${s.replace('.', '\\.')}\\s`));
    const dir = await tempDir('osrel');
    await run('objcopy', [
      '--dump-section',
      `.osrel=${join(dir, 'osrel')}`,
      artifact('zos.efi'),
      join(dir, 'copy.efi'),
    ]);
    const osrel = await readFile(join(dir, 'osrel'), 'utf8');
    await rm(dir, { recursive: true, force: true });
    assert.match(osrel, new RegExp(`VERSION_ID=${expectedVersion().replace(/[.+]/g, '\\$&')}`));
  });

  test('netboot/: kernel, initramfs, four iPXE binaries and a boot.ipxe that reboots on failure', async (t) => {
    if (!need(t, 'netboot/boot.ipxe')) return;
    const script = await readFile(artifact('netboot/boot.ipxe'), 'utf8');
    assert.match(script, /^#!ipxe\n/);
    assert.match(script, /ifconf --configurator dhcp/);
    assert.match(script, /\nreboot\n/);
    assert.doesNotMatch(script, /\nshell\b/);
    for (const f of ['vmlinuz', 'ipxe.efi', 'ipxe.lkrn', 'snponly.efi', 'undionly.kpxe']) {
      await readFile(artifact(`netboot/${f}`)).then((b) => assert.ok(b.length > 0, f));
    }
  });
});

describe('reproducibility: the same inputs give the same bytes', () => {
  let scratch = '';
  before(async () => {
    scratch = await tempDir('repro');
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });
  const cases: [ArtifactKind, string[]][] = [
    ['efi', ['zos.efi']],
    ['netboot', ['netboot/boot.ipxe', 'netboot/zos-net.efi']],
    ['usb', ['usb.img']],
    ['usb-netboot', ['usb-netboot.img']],
    ['iso', ['zos.iso']],
  ];
  for (const [kind, files] of cases) {
    test(`${kind} written twice`, async (t) => {
      if (!need(t, 'vmlinuz') || !need(t, 'netboot/ipxe.efi')) return;
      await writeArtifact(kind, join(scratch, 'a'));
      await new Promise((r) => setTimeout(r, 1100)); // a different wall-clock second
      await writeArtifact(kind, join(scratch, 'b'));
      for (const f of files)
        assert.equal(await sha256(join(scratch, 'b', f)), await sha256(join(scratch, 'a', f)), `${f} differs`);
    });
  }
});
