import assert from 'node:assert/strict';
import type { AgentClient } from '../../build/agent-client/client.js';

/**
 * The checks that a module-built NIC driver was loaded by hardware detection, asked of a booted node
 * whose only NIC is an e1000e: core0's coldplug pass loaded at least one module, e1000e is in
 * /proc/modules while e1000 (no such device on the machine) is not, and the kernel bound e1000e to eth0.
 * The agent answering at all already proves the NIC works: it is the node's only way in.
 */
export async function assertE1000eByColdplug(
  vm: { waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray>; tail(n: number): string },
  agent: AgentClient,
): Promise<void> {
  const m = await vm.waitFor(/coldplug: (\d+) modules loaded/, 5_000);
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
}
