import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentClient } from '../../build/agent-client/client.js';
import { bootVm, freePort, type Vm } from '../../build/qemu/index.js';
import { readManifest, type Manifest } from '../../build/publish/out-dir.js';
import { FINGERPRINT_RE, testAuth } from '../helpers/operator.js';
import { OUT, artifact, consoleLogPath, directCmdline, initramfsPath } from './helpers.js';

// The qemu profile's image, booted straight from vmlinuz + initramfs (TCG), driven from the host
// through the agent's Redis on a forwarded port: the node as an operator sees it.
describe('qemu profile: the agent in a booted node', { timeout: 20 * 60_000 }, () => {
  let vm: Vm;
  let agent: AgentClient;
  let manifest: Manifest;
  let port: number;
  let pin: string;

  before(async () => {
    const m = await readManifest(OUT);
    assert.ok(m, `${OUT}/manifest.json is missing: build the qemu profile first`);
    manifest = m;
    port = await freePort();
    const started = Date.now();
    vm = await bootVm({
      firmware: 'bios',
      kernel: artifact('vmlinuz'),
      initrd: initramfsPath(),
      append: `${directCmdline()} hostname=smoke1`,
      network: true,
      nic: 'virtio-net-pci',
      hostfwd: [{ hostPort: port, guestPort: 6379 }],
      memoryMb: 512,
      consoleLog: consoleLogPath('agent-smoke'),
      lifetimeMs: 18 * 60_000,
    });
    const banner = await vm.waitFor(/ZOS-BOOT: zos-build (\S+) \(build (\w+)\)/, 180_000);
    assert.equal(banner[1], manifest.version, 'banner shows the built version');
    const bannerAt = Date.now();
    pin = (await vm.waitFor(FINGERPRINT_RE, 180_000))[1]!;
    agent = await AgentClient.waitForAgent({ host: '127.0.0.1', port, ...testAuth(pin) }, 180_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n--- console tail ---\n${vm.tail(40)}`);
      },
    );
    const pong = Date.now();
    console.log(
      `# qemu start -> banner ${((bannerAt - started) / 1000).toFixed(1)} s, -> first PONG ${((pong - started) / 1000).toFixed(1)} s`,
    );
  });

  after(async () => {
    await agent?.close();
    await vm?.kill();
  });

  it('answers core.ping with the built version', async () => {
    assert.equal(await agent.ping(), `PONG ${manifest.version}`);
  });

  it('runs uname -r: the built kernel release', async () => {
    const r = await agent.system('uname', ['-r']);
    assert.equal(r.state, 'SUCCESS');
    assert.equal(r.streams[0].trim(), manifest.kernel.release);
    // The project version lives in the initramfs and the manifest; the kernel carries only its own inputs.
    assert.match(manifest.kernel.release, /^\d+\.\d+\.\d+-zos$/);
  });

  it('reports sane memory, OS and NIC information', async () => {
    const mem = JSON.stringify(await agent.info('mem'));
    const total = Number(/"total":\s*(\d+)/.exec(mem)?.[1]);
    assert.ok(total > 300e6 && total < 600e6, `512 MiB guest, info.mem total = ${total}`);
    const os = JSON.stringify(await agent.info('os'));
    assert.ok(os.includes(manifest.version), `info.os mentions ${manifest.version}: ${os}`);
    assert.ok(os.includes('smoke1'), `info.os has the hostname from the kernel command line: ${os}`);
    // DHCP runs in the background: give it a bounded while to configure the NIC.
    let nic = '';
    for (let i = 0; i < 30 && !/10\.0\.2\.15/.test(nic); i++) {
      nic = JSON.stringify(await agent.info('nic'));
      if (!/10\.0\.2\.15/.test(nic)) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.match(nic, /"lo"/);
    assert.match(nic, /10\.0\.2\.15/, `eth0 got QEMU's DHCP address: ${nic}`);
  });

  it("streams a job's output while it runs", async () => {
    const seen: Array<{ line: string; at: number }> = [];
    const r = await agent.system('sh', ['-c', 'for i in 1 2 3; do echo tick$i; sleep 1; done'], {
      onLine: (l) => seen.push({ line: l.line, at: Date.now() }),
    });
    const doneAt = Date.now();
    assert.equal(r.state, 'SUCCESS');
    assert.deepEqual(
      seen.map((s) => s.line),
      ['tick1', 'tick2', 'tick3'],
    );
    assert.ok(doneAt - seen[0]!.at >= 1500, `first line arrived ${doneAt - seen[0]!.at} ms before the end`);
  });

  it('kills a job that exceeds max_time', async () => {
    const t0 = Date.now();
    const r = await agent.system('sleep', ['60'], { maxTime: 2 });
    assert.equal(r.state, 'TIMEOUT');
    assert.ok(Date.now() - t0 < 30_000);
  });

  it('refuses the old shared password', async () => {
    await assert.rejects(
      AgentClient.connect({ host: '127.0.0.1', port, token: 'zos-qemu-test', tls: { pin } }),
      /refused the token/,
    );
  });

  it('keeps answering after 1000 malformed commands', async () => {
    const junk = [
      'not json',
      '[]',
      '{"id": 5}',
      '{"id":"x"}',
      '{"id":"y","command":"core.system","arguments":[1]}',
      '{"command":"core.ping"}',
      '"',
    ];
    for (let i = 0; i < 1000; i++)
      await agent.push(junk[i % junk.length]!.replace('"x"', `"x${i}"`).replace('"y"', `"y${i}"`));
    assert.equal(await agent.ping({ timeoutMs: 120_000 }), `PONG ${manifest.version}`);
    const unknown = await agent.call('no.such.command');
    assert.equal(unknown.state, 'UNKNOWN_CMD');
  });

  it('restores redis-server after it is killed', async () => {
    const pid = async () => (await agent.system('pidof', ['redis-server'])).streams[0].trim();
    const before = await pid();
    assert.match(before, /^\d+$/);
    // Kill it from a detached shell so the command itself can still answer first.
    await agent.system('sh', ['-c', '(sleep 1; kill -9 $(pidof redis-server)) >/dev/null 2>&1 &']);
    await new Promise((r) => setTimeout(r, 3000));
    await agent.close();
    agent = await AgentClient.waitForAgent({ host: '127.0.0.1', port, ...testAuth(pin) }, 120_000);
    const afterPid = await pid();
    assert.match(afterPid, /^\d+$/);
    assert.notEqual(afterPid, before, 'a new redis-server runs');
  });

  it('core.poweroff ends the VM', async () => {
    await agent.poweroff();
    const code = await Promise.race([vm.exited, new Promise((r) => setTimeout(() => r('still running'), 90_000))]);
    assert.notEqual(code, 'still running', `VM did not power off:\n${vm.tail(20)}`);
  });
});
