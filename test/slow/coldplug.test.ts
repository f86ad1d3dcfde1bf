import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootNode } from '../boot/helpers.js';
import { assertE1000eByColdplug } from '../helpers/coldplug.js';
import { repoCopy, zosBuild } from '../helpers/cli.js';
import { TEST_PUBLIC_KEY } from '../helpers/operator.js';

// Not in `npm test` (it compiles the generic profile's defconfig kernel, which CI's 90 minutes cannot
// hold beside the qemu build): `npm run test:slow`. test/boot/coldplug.test.ts proves the same core0
// pass in `npm test` on the qemu kernel. Here: the generic profile itself (server drivers as modules,
// firmware), its kernel and initramfs booted on an e1000e as the only NIC, with the test operator key
// given on the command line as an operator would (the generic profile enrolls none): the agent must
// answer over that NIC, whose driver only core0's coldplug pass (modalias -> modules.alias -> modprobe)
// can have loaded.
const PROFILE = `import generic from './generic.js';
export default { ...generic, name: 'generic-modules', artifacts: [] };
`;

describe('generic profile: coldplug of its module-built NIC driver (built + booted)', { timeout: 120 * 60_000 }, () => {
  let repo = '';
  let node: Awaited<ReturnType<typeof bootNode>> | undefined;
  before(async () => {
    repo = await repoCopy();
    await writeFile(join(repo, 'config/generic-modules.ts'), PROFILE);
    await writeFile(join(repo, 'dist/config/generic-modules.js'), PROFILE);
    const r = await zosBuild(['build', '--profile', 'generic-modules'], { repo, timeoutMs: 110 * 60_000 });
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    node = await bootNode({
      name: 'slow-coldplug',
      out: join(repo, 'out/generic-modules'),
      nic: 'e1000e',
      bare: true,
      append: `zos.keys=${TEST_PUBLIC_KEY}`,
      lifetimeMs: 540_000,
    });
  });
  after(async () => {
    await node?.agent.close().catch(() => {});
    await node?.vm.kill();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('the agent answers over the e1000e NIC, whose driver coldplug loaded', async () => {
    await assertE1000eByColdplug(node!.vm, node!.agent);
  });
});
