/**
 * The node userland (issue 10) on a booted qemu node with three extra virtio disks and two NICs: the
 * tools the image carries do their jobs on real (sparse-file) disks and real interfaces, driven through
 * the agent's `bash` command like an operator's script would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentClient } from '../../build/agent-client/client.js';
import type { Vm } from '../../build/qemu/index.js';
import { bootNode } from './helpers.js';

interface LsblkDevice {
  name: string;
  size: number;
  type: string;
  children?: LsblkDevice[];
}

describe('qemu profile: the node userland on real disks and NICs', { timeout: 20 * 60_000 }, () => {
  let vm: Vm;
  let agent: AgentClient;

  /** Runs a script on the node; returns stdout, failing with both streams when it exits non-zero. */
  const sh = async (script: string, timeoutMs = 120_000): Promise<string> => {
    const r = await agent.bash(script, { timeoutMs });
    const [out = '', err = ''] = r.streams;
    assert.equal(r.state, 'SUCCESS', `${script}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`);
    return out;
  };

  before(async () => {
    ({ vm, agent } = await bootNode({ name: 'userland', lifetimeMs: 18 * 60_000 }));
  });

  after(async () => {
    await agent?.close();
    await vm?.kill();
  });

  it('mounted layers: core0 mounted each squashfs read-only, the links resolve, disk.list leaves them out', async () => {
    const mounts = await sh('cat /proc/mounts');
    const layers = [...mounts.matchAll(/^(\/dev\/loop\d+) \/usr\/lib\/zos\/layers\/([\w-]+) squashfs (\S+)/gm)];
    const names = layers.map((m) => m[2]).sort();
    for (const n of ['btrfs-progs', 'e2fsprogs', 'glibc-runtime', 'nftables', 'parted', 'smartmontools', 'util-linux'])
      assert.ok(names.includes(n), `${n} not mounted:\n${mounts}`);
    for (const m of layers) assert.match(m[3]!, /^ro,/, `${m[2]} must be read-only`);
    assert.equal((await sh('readlink /usr/sbin/nft')).trim(), '/usr/lib/zos/layers/nftables/usr/sbin/nft');
    // A dynamically linked tool: its loader and libraries are links into glibc-runtime's layer.
    assert.match(await sh('nft --version'), /nftables v\d/);
    const devices = (await agent.callOk<{ blockdevices: { name: string }[] }>('disk.list')).blockdevices;
    const loops = new Set(layers.map((m) => m[1]!.replace('/dev/', '')));
    assert.deepEqual(
      devices.filter((d) => loops.has(d.name)),
      [],
      "the image's own layers are not disks",
    );
  });

  it('lsblk, sfdisk: lists the disks and gives one a GPT with two partitions', async () => {
    const disks = (JSON.parse(await sh('lsblk -J -b -o NAME,SIZE,TYPE')) as { blockdevices: LsblkDevice[] })
      .blockdevices;
    for (const n of ['vda', 'vdb', 'vdc']) {
      assert.equal(disks.find((d) => d.name === n)?.size, 300 * 1024 * 1024, `${n}: ${JSON.stringify(disks)}`);
    }
    await sh("printf 'label: gpt\\n,100MiB\\n,\\n' | sfdisk --quiet /dev/vda");
    const vda = (JSON.parse(await sh('lsblk -J -b -o NAME,SIZE,TYPE /dev/vda')) as { blockdevices: LsblkDevice[] })
      .blockdevices[0]!;
    assert.deepEqual(
      vda.children?.map((c) => [c.name, c.type]),
      [
        ['vda1', 'part'],
        ['vda2', 'part'],
      ],
    );
    assert.equal(vda.children?.[0]?.size, 100 * 1024 * 1024);
    assert.match(await sh('blkid -p -o value -s PTTYPE /dev/vda'), /^gpt$/m);
  });

  it('btrfs-progs: a raid1 pool over two disks, a subvolume, a file written and read back', async () => {
    await sh('mkfs.btrfs -q -f -L pool -d raid1 -m raid1 /dev/vdb /dev/vdc');
    const out = await sh(
      'mkdir -p /mnt/pool && mount /dev/vdb /mnt/pool && btrfs subvolume create /mnt/pool/vol && ' +
        'echo written-on-btrfs > /mnt/pool/vol/f && sync && cat /mnt/pool/vol/f && btrfs filesystem df /mnt/pool',
    );
    assert.match(out, /^written-on-btrfs$/m);
    assert.match(out, /Data, RAID1/);
    assert.match(await sh('btrfs subvolume list /mnt/pool'), /path vol$/m);
    await sh('umount /mnt/pool');
  });

  it('e2fsprogs: ext4 on the second partition, mounted and used', async () => {
    await sh('mkfs.ext4 -q -F -L data /dev/vda2');
    const out = await sh(
      'mkdir -p /mnt/data && mount /dev/vda2 /mnt/data && echo on-ext4 > /mnt/data/f && cat /mnt/data/f && ' +
        'findmnt -J -o TARGET,FSTYPE /mnt/data',
    );
    assert.match(out, /^on-ext4$/m);
    assert.match(out, /"fstype": ?"ext4"/);
    await sh('umount /mnt/data && e2fsck -n /dev/vda2');
  });

  it('iproute2: ip -j shows both NICs; a bridge enslaves one, takes an address, bridge link shows it', async () => {
    const links = JSON.parse(await sh('ip -j link show')) as { ifname: string; link_type: string }[];
    const nics = links.filter((l) => l.link_type === 'ether').map((l) => l.ifname);
    assert.ok(nics.includes('eth0') && nics.includes('eth1'), JSON.stringify(links));
    await sh(
      'ip link add br9 type bridge && ip link set eth1 master br9 && ip link set eth1 up && ' +
        'ip addr add 10.77.0.1/24 dev br9 && ip link set br9 up',
    );
    const ports = JSON.parse(await sh('bridge -j link show')) as { ifname: string; master: string }[];
    assert.ok(
      ports.some((p) => p.ifname === 'eth1' && p.master === 'br9'),
      JSON.stringify(ports),
    );
    const addrs = JSON.parse(await sh('ip -j addr show dev br9')) as { addr_info: { local: string }[] }[];
    assert.equal(addrs[0]?.addr_info.find((a) => a.local.startsWith('10.'))?.local, '10.77.0.1');
  });

  it('dnsmasq on a bridge leases an address to a client in another network namespace', async () => {
    // A bridge of its own: br9 holds eth1, whose QEMU user network would answer DHCP as well.
    const out = await sh(
      [
        'ip link add dhcpbr type bridge && ip addr add 10.78.0.1/24 dev dhcpbr && ip link set dhcpbr up',
        'ip link add v0 type veth peer name v1',
        'ip link set v0 master dhcpbr && ip link set v0 up',
        'ip netns add client && ip link set v1 netns client && ip netns exec client ip link set v1 up',
        'dnsmasq --interface=dhcpbr --bind-interfaces --except-interface=lo --port=0 --no-resolv --no-hosts ' +
          '--dhcp-range=10.78.0.50,10.78.0.60,1h --dhcp-leasefile=/tmp/leases --pid-file=/tmp/dnsmasq.pid ' +
          '--dhcp-authoritative --log-dhcp --log-facility=/tmp/dnsmasq.log',
        '(ip netns exec client udhcpc -i v1 -n -q -f -t 8 -T 4 -s /bin/true 2>&1 || { cat /tmp/dnsmasq.log; false; })',
        // dnsmasq writes its lease file in its main loop, after the ACK went out: wait for the line.
        'for i in $(seq 1 40); do grep -q " 10.78.0." /tmp/leases 2>/dev/null && break; sleep 0.5; done',
        'cat /tmp/leases',
      ].join(' && '),
      180_000,
    );
    assert.match(out, /lease of 10\.78\.0\.(5\d|60) obtained from 10\.78\.0\.1/);
    assert.match(out, /^\d+ \S+ 10\.78\.0\.(5\d|60) /m);
    await sh('kill $(cat /tmp/dnsmasq.pid); ip netns del client; ip link del v0; ip link del dhcpbr');
  });

  it('nftables: a table with a rule, listed back as JSON', async () => {
    await sh(
      "nft add table inet zt && nft add chain inet zt input '{ type filter hook input priority 0; policy accept; }' && " +
        'nft add rule inet zt input tcp dport 9999 drop',
    );
    const rs = JSON.parse(await sh('nft -j list table inet zt')) as { nftables: Record<string, unknown>[] };
    const rule = rs.nftables.find((o) => 'rule' in o);
    assert.ok(
      rule && JSON.stringify(rule).includes('9999') && JSON.stringify(rule).includes('drop'),
      JSON.stringify(rs),
    );
    await sh('nft delete table inet zt');
  });

  it('dmidecode, smartctl and ethtool read the hardware', async () => {
    const dmi = await sh('dmidecode -t system');
    assert.match(dmi, /Manufacturer: QEMU/);
    assert.match(dmi, /Product Name: \S+/);
    // virtio disks have no SMART: smartctl still identifies itself and the device it opened.
    const smart = await agent.bash('smartctl -i /dev/vda', { timeoutMs: 60_000 });
    assert.match(smart.streams[0] ?? '', /smartctl 7\.\d/);
    assert.match(smart.streams[0] ?? '', /\/dev\/vda/);
    assert.match(await sh('ethtool -i eth0'), /^driver: virtio_net$/m);
    assert.match(await sh('ethtool eth0'), /Link detected: yes/);
  });
});
