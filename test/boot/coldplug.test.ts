/**
 * Drivers built as modules are loaded at boot by hardware detection. The qemu kernel has its Intel NIC
 * drivers (e1000, e1000e) as modules, like the generic profile's server drivers: a node booted with an
 * e1000e as its only NIC answers over it only if core0's coldplug pass found the device's modalias in
 * sysfs and modprobe resolved it through modules.alias. (The artifact boot tests on QEMU's default
 * e1000 NIC depend on the same pass.)
 */
import { after, before, describe, it } from 'node:test';
import { assertE1000eByColdplug } from '../helpers/coldplug.js';
import { bootNode } from './helpers.js';

describe('coldplug: a module-built NIC driver loaded by modalias', { timeout: 600_000 }, () => {
  let node: Awaited<ReturnType<typeof bootNode>> | undefined;
  before(async () => {
    node = await bootNode({ name: 'coldplug', nic: 'e1000e', bare: true, lifetimeMs: 540_000 });
  });
  after(async () => {
    await node?.agent.close().catch(() => {});
    await node?.vm.kill();
  });

  it('the agent answers over the e1000e NIC, whose driver coldplug loaded', async () => {
    await assertE1000eByColdplug(node!.vm, node!.agent);
  });
});
