import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootVm } from '../../build/qemu/index.js';
import { initramfsPath } from '../boot/helpers.js';
import { repoCopy, zosBuild } from '../helpers/cli.js';

// Not in `npm test` (it compiles a second kernel, which CI's 90 minutes cannot hold): `npm run test:slow`.
// Drivers built as modules are loaded at boot by hardware detection: the qemu kernel with its e1000
// driver as a module, booted on an e1000 NIC, must come up with the module loaded by /init's
// coldplug pass (modalias -> modules.alias -> modprobe), not by name.
const PROFILE = `import qemu from './qemu.js';
export default {
  ...qemu, name: 'qemu-modules', artifacts: [],
  kernel: { ...qemu.kernel, fragments: [...qemu.kernel.fragments, 'test/fixtures/kernel/modules.config'], modules: true },
};
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
    const r = await zosBuild(['build', '--profile', 'qemu-modules'], { repo, timeoutMs: 80 * 60_000 });
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    const out = join(repo, 'out/qemu-modules');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { cmdline: string };
    const consoleLog = join(tmpdir(), `zos-coldplug-${process.pid}.log`);
    const vm = await bootVm({
      firmware: 'bios',
      kernel: join(out, 'vmlinuz'),
      initrd: initramfsPath(out),
      append: manifest.cmdline,
      nic: 'e1000',
      network: true,
      memoryMb: 512,
      consoleLog,
      lifetimeMs: 300_000,
    });
    try {
      const m = await vm.waitFor(/ZOS-BOOT: coldplug: (\d+) modules loaded/, 240_000);
      assert.ok(Number(m[1]) >= 1, `no module loaded:\n${vm.tail(40)}`);
      // The driver bound the NIC: the kernel names the interface it registered.
      await vm.waitFor(/e1000 0000:00:0\d\.0 eth0: Intel\(R\) PRO\/1000 Network Connection/, 60_000);
    } finally {
      await vm.kill();
    }
  });
});
