/**
 * Outbound mode (issue 14) on a booted qemu node: the node listens on no port, dials a management Redis
 * on the host (QEMU's user network: the host is 10.0.2.2) over TLS with a pinned certificate, waits
 * until the operator admits its boot identity, then serves commands under `node:<id>:` there. Real
 * parts only: openssl makes the management certificate, a real redis-server (TLS only, ACLs, an
 * operator account) plays the management Redis, the node is the built qemu image.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentClient, type StreamLine } from '../../build/agent-client/client.js';
import { mgmtConnectOptions, mgmtRedis, nodeNamespace, type MgmtOptions } from '../../build/agent-client/mgmt.js';
import { freePort, type Vm } from '../../build/qemu/index.js';
import { BOOT_TIMEOUT_MS, REPO, bootNodeVm, execFileP, expectedVersion, tempDir } from './helpers.js';
import { selfSignedCert } from '../helpers/tls-cert.js';

const OPERATOR_PASSWORD = 'operator-test-password';

/** Local addresses of listening TCP sockets in /proc/net/tcp or tcp6 text (state 0A = LISTEN). */
function listeners(procNetTcp: string): string[] {
  const out: string[] = [];
  for (const line of procNetTcp.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== '0A' || !f[1]?.includes(':')) continue;
    const [hex, portHex] = f[1].split(':') as [string, string];
    const port = parseInt(portHex, 16);
    if (hex.length === 8) {
      // IPv4, little-endian bytes
      const ip = [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
      out.push(`${ip}:${port}`);
    } else {
      out.push(`[${hex}]:${port}`);
    }
  }
  return out;
}

const LOOPBACK6 = '00000000000000000000000001000000'; // ::1 as /proc/net/tcp6 writes it
const isLoopback = (addr: string): boolean => addr.startsWith('127.') || addr.startsWith(`[${LOOPBACK6}]`);

/** Connects to 127.0.0.1:port, sends a Redis PING and returns whatever came back before close or 4 s. */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = connect({ host: '127.0.0.1', port }, () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.setTimeout(4000, () => s.destroy());
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
}

describe('qemu profile: outbound mode (no listening port, driven through a management Redis)', {
  timeout: 15 * 60_000,
}, () => {
  let dir: string;
  let redis: ChildProcess | undefined;
  let redisLog = '';
  let vm: Vm | undefined;
  let mgmt: MgmtOptions;
  let nodeId = '';
  let hash = '';
  let agentPort = 0; // the harness forwards the agent's usual port 6379 here
  let admin: Awaited<ReturnType<typeof mgmtRedis>> | undefined;

  before(async () => {
    dir = await tempDir('outbound');
    // The operator's throwaway management certificate and its pin, as the docs tell an operator to make them.
    const cert = await selfSignedCert(dir, 'zos-test-mgmt');
    const pin = cert.pin;
    const port = await freePort();
    await writeFile(
      join(dir, 'redis.conf'),
      [
        'port 0',
        `tls-port ${port}`,
        'bind 127.0.0.1',
        `tls-cert-file ${cert.certFile}`,
        `tls-key-file ${cert.keyFile}`,
        'tls-auth-clients no',
        'save ""',
        'appendonly no',
        `dir ${dir}`,
        'user default off',
        `user operator on >${OPERATOR_PASSWORD} ~* &* +@all`,
        '',
      ].join('\n'),
    );
    redis = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    redis.stdout!.on('data', (d: Buffer) => (redisLog += d.toString()));
    redis.stderr!.on('data', (d: Buffer) => (redisLog += d.toString()));
    mgmt = { mgmt: `rediss://127.0.0.1:${port}`, pin, user: 'operator', password: OPERATOR_PASSWORD };
    for (let i = 0; !admin; i++) {
      try {
        admin = await mgmtRedis(mgmt);
      } catch (err) {
        if (i > 50) throw new Error(`management redis did not start: ${(err as Error).message}\n${redisLog}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const booted = await bootNodeVm({
      name: 'outbound',
      append: `zos.mgmt=rediss://10.0.2.2:${port} zos.mgmt-pin=${pin}`,
      lifetimeMs: 12 * 60_000,
    });
    vm = booted.vm;
    agentPort = booted.port;
  });

  after(async () => {
    admin?.destroy();
    await vm?.kill();
    redis?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints its identity and waits for admission, having reached the pinned server', async () => {
    const m = await vm!.waitFor(/outbound identity node=(\S+) sha256=([0-9a-f]{64})/, BOOT_TIMEOUT_MS);
    [nodeId, hash] = [m[1]!, m[2]!];
    assert.match(nodeId, /^zos-[0-9a-f]{12}$/);
    // WRONGPASS from the management redis: TLS with the pin worked, the node is not admitted yet.
    await vm!.waitFor(/waiting for admission on rediss:\/\/10\.0\.2\.2/, BOOT_TIMEOUT_MS);
  });

  it('once admitted (zos-build agent admit), runs commands through the management Redis', async (t) => {
    assert.ok(nodeId, 'identity line seen');
    const cli = join(REPO, 'dist', 'build', 'cli', 'main.js');
    const common = ['--mgmt', mgmt.mgmt, '--pin', mgmt.pin!, '--mgmt-user', 'operator', '--node', nodeId];
    const env = { ...process.env, ZOS_MGMT_PASSWORD: OPERATOR_PASSWORD };
    const admitted = await execFileP('node', [cli, 'agent', 'admit', ...common, '--sha256', hash], { env });
    assert.match(admitted.stdout, new RegExp(`admitted ${nodeId}`));
    const ping = await execFileP('node', [cli, 'agent', 'ping', ...common, '--wait', '120'], { env });
    assert.match(ping.stdout, new RegExp(`^PONG ${expectedVersion().replace(/[.+]/g, '\\$&')} `));

    const agent = await AgentClient.waitForAgent(await mgmtConnectOptions(mgmt, nodeId), 60_000);
    try {
      const lines: StreamLine[] = [];
      const r = await agent.bash('echo one; sleep 1; echo two >&2; hostname', { onLine: (l) => lines.push(l) });
      assert.equal(r.state, 'SUCCESS');
      assert.equal(r.streams[0], `one\n${nodeId}\n`);
      assert.deepEqual(
        lines.map((l) => `${l.stream}:${l.line}`).sort(),
        ['stderr:two', 'stdout:one', `stdout:${nodeId}`].sort(),
      );
      // Everything the node wrote is under its prefix, and its ACL user is confined to it.
      const keys = await admin!.keys('*');
      assert.ok(keys.length > 0);
      assert.deepEqual(
        keys.filter((k) => !k.startsWith(nodeNamespace(nodeId))),
        [],
      );
      const user = (await admin!.sendCommand(['ACL', 'GETUSER', `node-${nodeId}`])) as unknown[];
      const field = (name: string): unknown => user[user.indexOf(name) + 1];
      assert.equal(field('keys'), `~${nodeNamespace(nodeId)}*`);
      const commands = String(field('commands')).split(' ').sort();
      assert.deepEqual(commands, ['+blpop', '+expire', '+ltrim', '+ping', '+rpush', '-@all']);
    } finally {
      await agent.close();
    }
    t.diagnostic(`node ${nodeId} driven through ${mgmt.mgmt}`);
  });

  it('listens on no non-loopback TCP port (inside: /proc/net/tcp{,6}; outside: a port probe)', async () => {
    const agent = await AgentClient.waitForAgent(await mgmtConnectOptions(mgmt, nodeId), 60_000);
    try {
      const r = await agent.bash('cat /proc/net/tcp /proc/net/tcp6');
      assert.equal(r.state, 'SUCCESS', r.streams[1]);
      const open = listeners(r.streams[0]).filter((a) => !isLoopback(a));
      assert.deepEqual(open, [], `non-loopback listeners: ${open.join(' ')}`);
      // The check can fail: a redis-server bound to 0.0.0.0 for a moment is seen (the image has no ss).
      const control = await agent.bash(
        "redis-server --port 7777 --bind 0.0.0.0 --save '' >/dev/null 2>&1 & pid=$!; " +
          'i=0; while [ $i -lt 100 ] && ! grep -q ":1E61 " /proc/net/tcp; do sleep 0.1; i=$((i+1)); done; ' +
          'cat /proc/net/tcp /proc/net/tcp6; kill $pid; wait $pid',
        { timeoutMs: 60_000 },
      );
      assert.ok(listeners(control.streams[0]).includes('0.0.0.0:7777'), control.streams[0]);
    } finally {
      await agent.close();
    }
    // The harness forwards the agent's port 6379 to the host: nothing on the node answers there.
    assert.equal(await probe(agentPort), '', `the node's forwarded port 6379 (host ${agentPort}) answered`);
  });
});
