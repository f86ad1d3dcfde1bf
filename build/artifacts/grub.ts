import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepLog } from '../util/exec.js';
import { reproEnv, writeStamped } from './common.js';

/** What both GRUBs need to read a config and boot a kernel (kept in this order in both lists). */
const GRUB_BOOT_MODULES = ['configfile', 'normal', 'linux', 'echo', 'test', 'sleep', 'reboot', 'halt'];

/** Modules of the GRUB that boots from a local disk, USB stick or CD (UEFI side of usb.img and zos.iso). */
export const GRUB_DISK_MODULES = [
  'part_gpt',
  'part_msdos',
  'fat',
  'iso9660',
  'search',
  'search_fs_file',
  'search_label',
  ...GRUB_BOOT_MODULES,
  'ls',
  'cat',
  'all_video',
  'gfxterm',
  'serial',
  'terminal',
];

/** Modules of the GRUB that fetches the kernel over the network (UEFI side of netboot and usb-netboot). */
export const GRUB_NET_MODULES = [
  'efinet',
  'net',
  'tftp',
  'http',
  'eval',
  'memdisk',
  'tar',
  ...GRUB_BOOT_MODULES,
  'regexp',
  'all_video',
  'serial',
  'terminal',
];

export interface GrubImageSpec {
  out: string;
  /** GRUB's platform (`grub-mkimage -O`), from the architecture table, e.g. x86_64-efi. */
  platform: string;
  modules: string[];
  /** Value of grub-mkimage -p: where `normal` looks for grub.cfg. */
  prefix: string;
  /** Commands run before `normal` (simple commands only: no if/for). */
  earlyConfig?: string;
  /** Files put in a memdisk, e.g. {'boot/grub/grub.cfg': '...'}. */
  memdisk?: Record<string, string>;
  /** Binary OpenPGP public key embedded with --pubkey (verified boot, see netboot-verify.ts). */
  pubkey?: Buffer;
  epoch: number;
  workDir: string;
  log: StepLog;
}

/**
 * A standalone GRUB EFI executable (x86_64-efi on x86). grub-mkimage (not grub-mkstandalone, whose memdisk tar
 * would carry the current time) with our own reproducible memdisk tar.
 */
export async function grubEfiImage(spec: GrubImageSpec): Promise<void> {
  const dir = join(spec.workDir, `grub-${spec.out.replace(/[^A-Za-z0-9]+/g, '_')}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const env = reproEnv(spec.epoch);
  const args = ['-O', spec.platform, '-o', spec.out, '-p', spec.prefix, '--compression', 'none'];
  if (spec.earlyConfig !== undefined) {
    const early = join(dir, 'early.cfg');
    await writeStamped(early, spec.earlyConfig, spec.epoch);
    args.push('-c', early);
  }
  if (spec.memdisk) {
    const root = join(dir, 'memdisk');
    for (const [path, content] of Object.entries(spec.memdisk))
      await writeStamped(join(root, path), content, spec.epoch);
    const tarFile = join(dir, 'memdisk.tar');
    await spec.log.run(
      'tar',
      [
        '--sort=name',
        `--mtime=@${spec.epoch}`,
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--format=ustar',
        '-cf',
        tarFile,
        '-C',
        root,
        '.',
      ],
      { env },
    );
    args.push('-m', tarFile);
  }
  if (spec.pubkey) {
    const key = join(dir, 'pubkey.gpg');
    await writeFile(key, spec.pubkey);
    // Under Secure Boot GRUB otherwise wants shim's verifier for the kernel; with an embedded key its own
    // OpenPGP verifier (check_signatures=enforce) is the one that checks what it loads.
    args.push('--pubkey', key, '--disable-shim-lock');
  }
  args.push(...spec.modules);
  await spec.log.run('grub-mkimage', args, { env });
}

/** Quotes a string for grub.cfg (single quotes; a single quote itself is written as '\''). */
export function grubQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
