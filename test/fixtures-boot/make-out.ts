/**
 * Development helper (not used by CI): lays out an output dir like `zos-build build` does, from a
 * kernel and an initramfs you provide, by calling the artifact writers. Then point ZOS_TEST_OUT at it.
 *
 *   node dist/test/fixtures-boot/make-out.js --vmlinuz K --initramfs I.cpio.gz --out DIR [--version V]
 *        [--base-url URL] [--kinds efi,netboot,usb,usb-netboot,iso] [--ipxe-dir /usr/lib/ipxe]
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { archFacts } from '../../build/arch.js';
import { writers } from '../../build/artifacts/index.js';
import { initramfsName } from '../../build/artifacts/common.js';
import type { ArtifactKind } from '../../build/profile/types.js';
import { StepLog } from '../../build/util/exec.js';

const { values } = parseArgs({
  options: {
    vmlinuz: { type: 'string' },
    initramfs: { type: 'string' },
    out: { type: 'string' },
    version: { type: 'string', default: '0.1.0-fixture' },
    cmdline: { type: 'string', default: 'console=ttyS0 rdinit=/init' },
    'base-url': { type: 'string', default: '' },
    kinds: { type: 'string', default: 'efi,netboot,usb,usb-netboot,iso' },
    'ipxe-dir': { type: 'string', default: '/usr/lib/ipxe' },
    epoch: { type: 'string', default: '1700000000' },
  },
});
if (!values.vmlinuz || !values.initramfs || !values.out) {
  console.error('usage: make-out --vmlinuz K --initramfs I --out DIR');
  process.exit(2);
}
const out = values.out;
await mkdir(out, { recursive: true });
await copyFile(values.vmlinuz, join(out, 'vmlinuz'));
await copyFile(values.initramfs, join(out, initramfsName(values.initramfs)));
// The ipxe recipe's layout: the four binaries in one flat dir (Debian keeps two under /boot).
const ipxeDir = await mkdtemp(join(tmpdir(), 'zos-ipxe-'));
for (const f of ['ipxe.efi', 'ipxe.lkrn', 'snponly.efi', 'undionly.kpxe'])
  await copyFile(join(values['ipxe-dir']!, f), join(ipxeDir, f));
for (const kind of values.kinds!.split(',') as ArtifactKind[]) {
  const workDir = await mkdtemp(join(tmpdir(), `zos-art-${kind}-`));
  const log = await StepLog.create(join(out, 'logs', `artifact-${kind}.log`));
  const t0 = Date.now();
  try {
    const files = await writers[kind].write({
      vmlinuz: values.vmlinuz,
      initramfs: values.initramfs,
      cmdline: values.cmdline!,
      version: values.version!,
      netboot: { baseUrl: values['base-url']!, runmode: 'dev', farmId: '42', extraArgs: '' },
      ipxeDir,
      outDir: out,
      workDir,
      epoch: Number(values.epoch),
      log,
      arch: archFacts(),
    });
    console.log(`${kind}: ${files.join(' ')} (${Date.now() - t0} ms)`);
  } catch (err) {
    console.error(`${kind}: FAILED, see ${log.path}`);
    throw err;
  } finally {
    log.close();
    await rm(workDir, { recursive: true, force: true });
  }
}
await rm(ipxeDir, { recursive: true, force: true });
await writeFile(join(out, 'manifest.json'), `${JSON.stringify({ version: values.version }, null, 2)}\n`);
