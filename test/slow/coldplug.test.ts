import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootVm } from '../../build/qemu/index.js';
import { initramfsPath } from '../boot/helpers.js';
import { repoCopy, zosBuild } from '../helpers/cli.js';

// Not in `npm test` (it compiles the generic profile's defconfig kernel, which CI's 90 minutes cannot
// hold beside the qemu build): `npm run test:slow`. test/boot/coldplug.test.ts proves the same /init
// pass in `npm test` on the qemu kernel. Here: the generic profile's kernel and initramfs (server
// drivers as modules, firmware), booted on an e1000e NIC, come up with its driver loaded by /init's
// coldplug pass (modalias -> modules.alias -> modprobe) and the NIC registered.
const PROFILE = `import generic from './generic.js';
export default { ...generic, name: 'generic-modules', artifacts: [] };
`;

describe('coldplug of kernel modules (built + booted)', { timeout: 90 * 60_000 }, () => {
  let repo: string;
  before(async () => {
    repo = await repoCopy();
    await writeFile(join(repo, 'config/qemu-modules.ts'), PROFILE);
    await writeFile(join(repo, 'dist/config/qemu-modules.js'), PROFILE);
  });
  after(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('loads the NIC driver module by modalias at boot', async () => {
    const r = await zosBuild(['build', '--profile', 'generic-modules'], { repo, timeoutMs: 80 * 60_000 });
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    const out = join(repo, 'out/generic-modules');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { cmdline: string };
    const consoleLog = join(tmpdir(), `zos-coldplug-${process.pid}.log`);
    const vm = await bootVm({
      firmware: 'bios',
      kernel: join(out, 'vmlinuz'),
      initrd: initramfsPath(out),
      append: manifest.cmdline,
      nic: 'e1000e',
      network: true,
      memoryMb: 1024,
      consoleLog,
      lifetimeMs: 300_000,
    });
    try {
      const m = await vm.waitFor(/ZOS-BOOT: coldplug: (\d+) modules loaded/, 240_000);
      assert.ok(Number(m[1]) >= 1, `no module loaded:\n${vm.tail(40)}`);
      // The driver bound the NIC: the kernel names the interface it registered.
      await vm.waitFor(/e1000e 0000:00:0\d\.0 eth0: Intel\(R\) PRO\/1000 Network Connection/, 60_000);
    } finally {
      await vm.kill();
    }
  });
});
