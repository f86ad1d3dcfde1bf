/**
 * Drivers built as modules are loaded at boot by hardware detection. The qemu kernel has its Intel NIC
 * drivers (e1000, e1000e) as modules, like the generic profile's server drivers: a node booted with an
 * e1000e as its only NIC answers over it only if /init's coldplug pass found the device's modalias in
 * sysfs and modprobe resolved it through modules.alias. (The artifact boot tests on QEMU's default
 * e1000 NIC depend on the same pass.)
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { bootNode, tempDir } from './helpers.js';

describe('coldplug: a module-built NIC driver loaded by modalias', { timeout: 600_000 }, () => {
  let dir = '';
  let node: Awaited<ReturnType<typeof bootNode>> | undefined;
  before(async () => {
    dir = await tempDir('coldplug');
    node = await bootNode({ dir, nic: 'e1000e', bare: true, lifetimeMs: 540_000 });
  });
  after(async () => {
    await node?.agent.close().catch(() => {});
    await node?.vm.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the agent answers over the e1000e NIC, whose driver coldplug loaded', async () => {
    const { vm, agent } = node!;
    const m = await vm.waitFor(/ZOS-BOOT: coldplug: (\d+) modules loaded/, 5_000);
    assert.ok(Number(m[1]) >= 1, `coldplug loaded no module:\n${vm.tail(40)}`);
    const r = await agent.system('cat', ['/proc/modules']);
    const loaded = r.streams[0]!.split('\n').map((l) => l.split(' ')[0]);
    assert.ok(loaded.includes('e1000e'), `e1000e not in /proc/modules: ${loaded.join(', ')}`);
    // By hardware detection, not by a list of names: the machine has no e1000, so that driver stays out.
    assert.ok(!loaded.includes('e1000'), `e1000 loaded without an e1000 device: ${loaded.join(', ')}`);
    const link = await agent.system('ip', ['-j', 'link', 'show', 'eth0']);
    assert.equal(link.state, 'SUCCESS', link.streams[1]);
    const ethtool = await agent.system('ethtool', ['-i', 'eth0']);
    assert.match(ethtool.streams[0]!, /^driver: e1000e$/m);
  });
});
