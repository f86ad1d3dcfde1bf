import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { capture } from '../util/exec.js';
import { ZosError } from '../util/errors.js';
import { exists } from '../util/fs.js';
import { osRelease } from '../image/os-release.js';
import { alignUp, fileSize, fixPeTimestamp, writeStamped } from './common.js';
import { signIfSigning } from './sign-efi.js';
import type { ArtifactInput, ArtifactWriter } from './types.js';

/**
 * Builds a unified kernel image: systemd's EFI stub with .osrel, .cmdline, .linux and .initrd sections
 * added by objcopy. The stub's sections end below 0x20000; ours follow it, each 4 KiB aligned, in the
 * order the stub expects. ImageBase of the stub is 0, so VMAs are RVAs.
 */
export async function buildUki(opts: {
  out: string;
  vmlinuz: string;
  initramfs: string;
  cmdline: string;
  version: string;
  epoch: number;
  workDir: string;
  log: ArtifactInput['log'];
  arch: ArtifactInput['arch'];
}): Promise<void> {
  const stub = opts.arch.efiStub;
  if (!(await exists(stub))) {
    throw new ZosError(
      `the EFI stub ${stub} is missing`,
      'Install the Debian package systemd-boot-efi (ci/install-host-deps).',
    );
  }
  const headers = await capture('objdump', ['-h', stub]);
  let end = 0;
  for (const m of headers.matchAll(/^\s*\d+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s/gm)) {
    end = Math.max(end, parseInt(m[2]!, 16) + parseInt(m[1]!, 16));
  }
  if (end === 0) throw new ZosError(`could not read the section table of ${stub}`);
  const osrel = join(opts.workDir, 'uki-osrel');
  const cmdline = join(opts.workDir, 'uki-cmdline');
  await writeStamped(osrel, osRelease({ version: opts.version }), opts.epoch);
  await writeStamped(cmdline, `${opts.cmdline}\0`, opts.epoch);
  const sections: [string, string][] = [
    ['.osrel', osrel],
    ['.cmdline', cmdline],
    ['.linux', opts.vmlinuz],
    ['.initrd', opts.initramfs],
  ];
  const args: string[] = [];
  let vma = alignUp(end, 0x1000);
  for (const [name, file] of sections) {
    args.push('--add-section', `${name}=${file}`, '--change-section-vma', `${name}=0x${vma.toString(16)}`);
    args.push('--set-section-flags', `${name}=data,readonly`);
    vma = alignUp(vma + (await fileSize(file)), 0x1000);
  }
  await opts.log.run('objcopy', [...args, stub, opts.out], { env: { SOURCE_DATE_EPOCH: String(opts.epoch) } });
  // sbsign pads an image to 8 bytes before appending the signature; padding here already makes
  // `sbattach --remove` of a signed zos.efi give back exactly these bytes (docs/secure-boot.md).
  const size = await fileSize(opts.out);
  await truncate(opts.out, alignUp(size, 8));
  // The stub itself carries 0; keep it so (objcopy puts the current time there).
  await fixPeTimestamp(opts.out, 0);
}

/** zos.efi of this build at `out`: the unified kernel image, signed when the build signs. */
export async function writeZosEfi(input: ArtifactInput, out: string): Promise<void> {
  await buildUki({ ...input, out });
  await signIfSigning(input, out);
}

export const efiWriter: ArtifactWriter = {
  kind: 'efi',
  hostTools: ['objcopy'],
  reads: { kernel: true, initramfs: true, bootloader: false },
  async write(input) {
    await writeZosEfi(input, join(input.outDir, 'zos.efi'));
    return ['zos.efi'];
  },
};
