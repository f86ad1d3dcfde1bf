/**
 * The node-management commands of core0 (issue 11) on a booted qemu node, driven through the TypeScript
 * client over 0-core's wire format: disks, btrfs, bridges, ip, nft and containers change the node's
 * state, so they are tested here and never on the host.
 *
 * Needs, besides the kernel options of kernel/qemu.config: parted and btrfs-progs (disk.mktable/
 * mkpart/rmpart, btrfs.*), iproute2 (bridge.*, ip.*, container nics) and nftables (nft.*) in the
 * qemu profile's image. Where a tool is missing the test fails with the agent's "tool X is not in
 * this image" error.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentClient, StreamLine } from '../../build/agent-client/client.js';
import type { Vm } from '../../build/qemu/index.js';
import { readNewcImage } from '../helpers/newc-read.js';
import { rawTar, type RawTarEntry } from '../helpers/tar-raw.js';
import { bootNode, initramfsCpio, serveDir, tempDir, type FileServer } from './helpers.js';

interface BlockDevice {
  name: string;
  size: number;
  fstype?: string;
  mountpoints: string[];
  children?: BlockDevice[];
}

/** A container root filesystem: the image's own static busybox and a few applet links. */
async function busyboxRootfs(): Promise<Buffer> {
  const bb = readNewcImage(await initramfsCpio()).files.get('bin/busybox');
  assert.ok(bb, 'bin/busybox is in the initramfs');
  const entries: RawTarEntry[] = [
    { path: 'bin/', type: '5' },
    { path: 'bin/busybox', type: '0', mode: 0o755, data: bb.data },
    ...['sh', 'ping', 'hostname', 'cat', 'ls', 'ip', 'sleep', 'echo', 'touch', 'grep'].map(
      (a): RawTarEntry => ({ path: `bin/${a}`, type: '2', linkpath: 'busybox' }),
    ),
    { path: 'etc/', type: '5' },
    { path: 'etc/image-marker', type: '0', data: 'pristine\n' },
    { path: 'proc/', type: '5' },
    { path: 'sys/', type: '5' },
    { path: 'dev/', type: '5' },
    { path: 'tmp/', type: '5', mode: 0o1777 },
  ];
  return rawTar(entries);
}

describe('qemu profile: node management through the agent', { timeout: 30 * 60_000 }, () => {
  let vm: Vm;
  let agent: AgentClient;
  let files: FileServer;
  let rootUrl = '';
  let dir = '';

  before(async () => {
    dir = await tempDir('node');
    const tar = await busyboxRootfs();
    await writeFile(join(dir, 'rootfs.tar'), tar);
    files = await serveDir(dir);
    rootUrl = `http://10.0.2.2:${files.port}/rootfs.tar#sha256=${createHash('sha256').update(tar).digest('hex')}`;
    ({ vm, agent } = await bootNode({ name: 'agent-node', append: 'hostname=node1', lifetimeMs: 28 * 60_000 }));
  });

  after(async () => {
    await agent?.close();
    await vm?.kill();
    await files?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('speaks 0-core: job flag, list stream with levels, bash, job and process control, info', async () => {
    const lines: StreamLine[] = [];
    const r = await agent.bash('echo out; echo err >&2; exit 3', { onLine: (l) => lines.push(l) });
    assert.equal(r.state, 'ERROR');
    assert.equal(r.code, 1003);
    assert.equal(r.level, 0);
    assert.deepEqual(lines.map((l) => [l.level, l.line]).sort(), [
      [1, 'out'],
      [2, 'err'],
    ]);

    const sleeper = agent.system('sleep', ['120'], { timeoutMs: 60_000 });
    let pid = 0;
    for (let i = 0; i < 50 && !pid; i++) {
      const j = (await agent.jobs()).find((x) => x.command === 'core.system' && x.pids?.length);
      pid = j?.pids?.[0] ?? 0;
      if (!pid) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(pid > 1, 'job.list shows the sleeper with its pid');
    const procs = await agent.callOk<{ pid: number; name: string }[]>('process.list', { pid });
    assert.equal(procs[0]!.name, 'sleep');
    await agent.killProcess(pid, 9);
    const killed = await sleeper; // killed from outside the job: an ERROR with 1000 + 128 + 9
    assert.deepEqual([killed.state, killed.code], ['ERROR', 1137]);

    const ports = await agent.callOk<{ network: string; port: number; pid: number }[]>('info.port');
    assert.ok(
      // The management port is core0's own (PID 1); redis-server listens only on its unix socket.
      ports.some((p) => p.network === 'tcp' && p.port === 6379 && p.pid === 1),
      JSON.stringify(ports),
    );
    const dmi = await agent.callOk<Record<string, { properties: Record<string, { value: string }> }>>('info.dmi', {
      types: ['system'],
    });
    assert.match(dmi['System Information']?.properties.Manufacturer?.value ?? '', /QEMU/);
  });

  it('round-trips a file with filesystem upload/download', async () => {
    const data = Buffer.alloc(900_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    await agent.callOk('filesystem.mkdir', { path: '/var/tmp/up' });
    await agent.upload('/var/tmp/up/blob', data);
    assert.ok((await agent.download('/var/tmp/up/blob')).equals(data));
    const sum = await agent.system('sha256sum', ['/var/tmp/up/blob']);
    assert.equal(sum.streams[0].split(' ')[0], createHash('sha256').update(data).digest('hex'));
    await agent.callOk('filesystem.remove', { path: '/var/tmp/up' });
  });

  it('partitions a virtio disk and builds, mounts and subdivides a btrfs pool', async () => {
    const list = async () => (await agent.callOk<{ blockdevices: BlockDevice[] }>('disk.list')).blockdevices;
    const disks = await list();
    for (const n of ['vda', 'vdb', 'vdc']) {
      assert.equal(disks.find((d) => d.name === n)?.size, 300 * 1024 * 1024, `${n} in disk.list`);
    }
    await agent.callOk('disk.mktable', { disk: '/dev/vda', table_type: 'gpt' }, { timeoutMs: 60_000 });
    await agent.callOk(
      'disk.mkpart',
      { disk: '/dev/vda', start: '1MiB', end: '100%', part_type: 'primary' },
      { timeoutMs: 60_000 },
    );
    const vda = (await list()).find((d) => d.name === 'vda');
    assert.equal(vda?.children?.[0]?.name, 'vda1', JSON.stringify(vda));
    const info = await agent.callOk<{ name: string; start: number }>('disk.getinfo', {
      disk: '/dev/vda',
      part: 'vda1',
    });
    assert.equal(info.start, 1024 * 1024);
    await agent.callOk('disk.rmpart', { disk: '/dev/vda', number: 1 }, { timeoutMs: 60_000 });
    assert.equal((await list()).find((d) => d.name === 'vda')?.children, undefined);

    await agent.callOk(
      'btrfs.create',
      { label: 'pool', metadata: 'raid1', data: 'raid1', devices: ['/dev/vdb', '/dev/vdc'], overwrite: true },
      { timeoutMs: 120_000 },
    );
    const fss = await agent.callOk<{ label: string; total_devices: number }[]>('btrfs.list', undefined, {
      timeoutMs: 60_000,
    });
    assert.deepEqual(
      fss.map((f) => [f.label, f.total_devices]),
      [['pool', 2]],
    );
    assert.equal((await list()).find((d) => d.name === 'vdb')?.fstype, 'btrfs');
    await agent.callOk('disk.mount', { source: '/dev/vdb', target: '/mnt/pool', options: 'noatime' });
    const df = await agent.callOk<Record<string, { profile: string }>>('btrfs.info', { mountpoint: '/mnt/pool' });
    assert.equal(df.data?.profile, 'RAID1');
    await agent.callOk('btrfs.subvol_create', { path: '/mnt/pool/vol1' });
    const subs = await agent.callOk<{ path: string }[]>('btrfs.subvol_list', { path: '/mnt/pool' });
    assert.deepEqual(
      subs.map((s) => s.path),
      ['vol1'],
    );
    await agent.callOk('btrfs.subvol_delete', { path: '/mnt/pool/vol1' });
    assert.deepEqual(await agent.callOk('btrfs.subvol_list', { path: '/mnt/pool' }), []);
    // A mounted device is refused for formatting.
    const busy = await agent.call('btrfs.create', { label: 'x', devices: ['/dev/vdb'], overwrite: true });
    assert.match(String(busy.value), /is in use/);
    assert.deepEqual(await agent.callOk('disk.umount', { source: '/dev/vdb' }), ['/mnt/pool']);
    assert.deepEqual((await list()).find((d) => d.name === 'vdb')?.mountpoints, []);
  });

  it('manages bridges, links, addresses and routes', async () => {
    await agent.callOk('bridge.create', {
      name: 'br0',
      hwaddr: null,
      network: { mode: 'static', nat: false, settings: { cidr: '10.10.0.1/24' } },
    });
    assert.ok((await agent.callOk<string[]>('bridge.list')).includes('br0'));
    assert.deepEqual(
      await agent.callOk('ip.addr.list', { name: 'br0' }).then((a) => (a as string[]).filter((x) => x.includes('.'))),
      ['10.10.0.1/24'],
    );
    await agent.callOk('bridge.nic-add', { name: 'br0', nic: 'eth1' });
    assert.deepEqual(await agent.callOk('bridge.nic-list', { name: 'br0' }), ['eth1']);
    const links = await agent.callOk<{ name: string; master: string; type: string }[]>('ip.link.list');
    assert.equal(links.find((l) => l.name === 'eth1')?.master, 'br0');
    assert.equal(links.find((l) => l.name === 'br0')?.type, 'bridge');
    await agent.callOk('bridge.nic-remove', { nic: 'eth1' });
    await agent.callOk('ip.link.mtu', { name: 'eth1', mtu: 1400 });
    await agent.callOk('ip.link.up', { name: 'eth1' });
    await agent.callOk('ip.addr.add', { name: 'eth1', ip: '10.30.0.2/24' });
    await agent.callOk('ip.route.add', { dev: 'eth1', dst: '10.40.0.0/16', gw: '10.30.0.1' });
    const routes = await agent.callOk<{ dev: string; dst: string; gw: string }[]>('ip.route.list');
    assert.ok(
      routes.some((r) => r.dst === '10.40.0.0/16' && r.gw === '10.30.0.1' && r.dev === 'eth1'),
      JSON.stringify(routes),
    );
    await agent.callOk('ip.route.del', { dev: 'eth1', dst: '10.40.0.0/16', gw: '10.30.0.1' });
    await agent.callOk('ip.addr.del', { name: 'eth1', ip: '10.30.0.2/24' });
    const eth1 = (await agent.callOk<{ name: string; mtu: number; up: boolean }[]>('ip.link.list')).find(
      (l) => l.name === 'eth1',
    );
    assert.deepEqual([eth1?.mtu, eth1?.up], [1400, true]);
    await agent.callOk('bridge.delete', { name: 'br0' });
    assert.ok(!(await agent.callOk<string[]>('bridge.list')).includes('br0'));
  });

  it('opens and drops a port with nft', async () => {
    await agent.callOk('nft.open_port', { port: 8080, interface: null, subnet: null });
    await agent.callOk('nft.open_port', { port: 9090, interface: 'eth0', subnet: '10.0.2.0/24' });
    assert.deepEqual((await agent.callOk<string[]>('nft.list')).sort(), [
      'iifname "eth0" ip saddr 10.0.2.0/24 tcp dport 9090 accept',
      'tcp dport 8080 accept',
    ]);
    assert.equal(await agent.callOk('nft.rule_exists', { port: 8080 }), true);
    const ruleset = await agent.system('nft', ['list', 'chain', 'inet', 'filter', 'input']);
    assert.match(ruleset.streams[0], /tcp dport 8080 accept/);
    await agent.callOk('nft.drop_port', { port: 8080 });
    assert.equal(await agent.callOk('nft.rule_exists', { port: 8080 }), false);
    const after = await agent.system('nft', ['list', 'chain', 'inet', 'filter', 'input']);
    assert.doesNotMatch(after.streams[0], /dport 8080/);
    assert.equal(
      (await agent.call('nft.open_port', { port: 9090, interface: 'eth0', subnet: '10.0.2.0/24' })).code,
      400,
      'duplicate rule',
    );
  });

  it('runs containers from a pinned tar on a bridge and cleans up after them', async () => {
    await agent.callOk('bridge.create', {
      name: 'zbr0',
      network: { mode: 'static', nat: false, settings: { cidr: '10.20.0.1/24' } },
    });
    const create = (ip: string, hostname: string) =>
      agent.callOk<number>(
        'corex.create',
        {
          root: rootUrl,
          hostname,
          nics: [{ type: 'bridge', id: 'zbr0', config: { cidr: `${ip}/24`, gateway: '10.20.0.1' } }],
        },
        { timeoutMs: 120_000 },
      );
    const a = await create('10.20.0.2', 'ca');
    const b = await create('10.20.0.3', 'cb');
    const inside = async (c: number, script: string) => {
      const id = await agent.callOk<string>('corex.dispatch', {
        container: c,
        command: { command: 'bash', arguments: { script, stdin: '' }, stream: false },
      });
      await agent.waitAccepted(id);
      return agent.waitResult(id, 60_000);
    };
    const who = await inside(
      a,
      'hostname; echo $$; cat /etc/image-marker; touch /etc/written; ls /proc | grep -c "^[0-9]"',
    );
    assert.equal(who.state, 'SUCCESS', who.streams[1]);
    const [hostname, , marker] = who.streams[0].split('\n');
    assert.equal(hostname, 'ca');
    assert.equal(marker, 'pristine');
    const ping = await inside(a, 'ping -c 3 -W 5 10.20.0.3 && ping -c 3 -W 5 10.20.0.1');
    if (ping.state !== 'SUCCESS') {
      // What the node saw, for the failure message: addresses, neighbours, the bridge's ports and fdb, nft.
      const diag = await agent.bash(
        'ip addr show zbr0; ip neigh; bridge link; bridge fdb show br zbr0; nft list ruleset; ' +
          'cat /proc/sys/net/ipv4/conf/zbr0/rp_filter /proc/sys/net/ipv4/conf/zbr0/arp_ignore',
      );
      assert.fail(
        `container a reaches b and the node over zbr0: ${ping.streams.join('\n')}\n${diag.streams.join('\n')}`,
      );
    }
    // The image stays pristine: b does not see what a wrote.
    const other = await inside(b, 'ls /etc');
    assert.doesNotMatch(other.streams[0], /written/);
    const listed = await agent.callOk<Record<string, unknown>>('corex.list');
    assert.deepEqual(Object.keys(listed).sort(), [String(a), String(b)]);

    for (const c of [a, b]) await agent.callOk('corex.terminate', { container: c }, { timeoutMs: 60_000 });
    assert.deepEqual(await agent.callOk('corex.list'), {});
    const mounts = await agent.system('cat', ['/proc/mounts']);
    assert.doesNotMatch(mounts.streams[0], /containers|overlay/, 'no container mount is left');
    const procs = await agent.callOk<{ cmdline: string[] }[]>('process.list');
    assert.ok(!procs.some((p) => (p.cmdline[0] ?? '').startsWith('core0-container')), 'no container init is left');
    const links = await agent.callOk<{ name: string }[]>('ip.link.list');
    assert.deepEqual(
      links.filter((l) => /^v[cp]\d/.test(l.name)),
      [],
      'no veth is left',
    );
    await agent.callOk('bridge.delete', { name: 'zbr0' });
    assert.ok(files.requests.includes('/rootfs.tar'));
  });

  it('refuses an unpinned or wrongly pinned root', async () => {
    const unpinned = await agent.call('corex.create', { root: rootUrl.replace(/#.*/, '') });
    assert.match(String(unpinned.value), /must pin the archive/);
    const wrong = await agent.call(
      'corex.create',
      { root: rootUrl.replace(/sha256=./, 'sha256=0') },
      { timeoutMs: 120_000 },
    );
    assert.match(String(wrong.value), /sha256 is [0-9a-f]{64}, the root URL pins/);
  });
});
