/**
 * End-to-end tests of core0 on the host: build the agent with `go build`, run it in non-PID-1 mode
 * with the host's redis-server on a free 127.0.0.1 port, and drive it with AgentClient.
 * Skipped (with the reason) only when `go` or `redis-server` is missing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import yargs from 'yargs';
import agentCommand from '../../build/cli/commands/agent.js';
import { AgentClient, type StreamLine } from '../../build/agent-client/client.js';
import { mintToken } from '../../build/agent-client/token.js';
import { pinTls } from '../../build/agent-client/tls-pin.js';
import { ZosError } from '../../build/util/errors.js';
import { FINGERPRINT_RE, TEST_KEY_FILE, TEST_PUBLIC_KEY, testAuth, testKey } from '../helpers/operator.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The agent's host name: the audience its tokens must name. */
const NODE = 'core0-test';
const VERSION = '0.0.0-test';

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const goBin = which('go');
const redisServer = which('redis-server');
const skip = !goBin ? 'go is not installed' : !redisServer ? 'redis-server is not installed' : false;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([
    new Promise<boolean>((res) => child.once('exit', () => res(true))),
    sleep(ms).then(() => false),
  ]);
}

/**
 * Collects what the CLI prints (strings only: node --test reports over stdout with binary chunks,
 * which pass through); `restore` puts stdout back.
 */
function captureStdout(): { out: string[]; restore: () => void } {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return write(chunk, ...rest);
    out.push(chunk);
    return true;
  }) as typeof process.stdout.write;
  return { out, restore: () => (process.stdout.write = write) };
}

describe('core0 agent on the host', { skip, timeout: 600_000 }, () => {
  let dir = '';
  let port = 0;
  let agentProc: ChildProcess | undefined;
  let agent: AgentClient | undefined;
  let log = '';
  const redisPids = new Set<number>();
  let pin = '';
  const opts = () => ({ host: '127.0.0.1', port, ...testAuth(pin) });
  /** A plain node-redis client, as upstream 0-core clients connect: TLS pinned, the token as password. */
  const rawClient = async () => {
    const tls = await pinTls('127.0.0.1', port, pin, 5000);
    const c = createClient({
      socket: { host: '127.0.0.1', port, tls: true, ...tls.options, reconnectStrategy: false },
      password: mintToken(testKey, { aud: NODE, ttlS: 600 }),
    });
    c.on('error', () => {});
    return c;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'core0-test-'));
    const bin = join(dir, 'core0');
    const build = spawnSync(
      goBin!,
      ['build', '-trimpath', '-buildvcs=false', '-ldflags', `-X main.version=${VERSION}`, '-o', bin, './cmd/core0'],
      {
        cwd: join(REPO, 'agent'),
        env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
        encoding: 'utf8',
        timeout: 540_000,
      },
    );
    assert.equal(build.status, 0, `go build failed:\n${build.stderr}${build.error ?? ''}`);
    port = await freePort();
    await writeFile(
      join(dir, 'cmdline'),
      `console=ttyS0 zos.keys=${TEST_PUBLIC_KEY} runmode=test hostname=${NODE} farmer_id=7\n`,
    );
    agentProc = spawn(
      bin,
      [
        '-redis-server',
        redisServer!,
        '-redis-port',
        String(port),
        '-redis-bind',
        '127.0.0.1',
        '-run-dir',
        join(dir, 'run'),
        '-config',
        join(dir, 'core0.conf'),
        '-cmdline',
        join(dir, 'cmdline'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agentProc.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    agentProc.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    try {
      for (let i = 0; i < 300 && !FINGERPRINT_RE.test(log); i++) await sleep(100);
      pin = FINGERPRINT_RE.exec(log)?.[1] ?? '';
      assert.ok(pin, 'core0 printed no TLS fingerprint');
      agent = await AgentClient.waitForAgent(opts(), 30_000);
    } catch (err) {
      throw new Error(`${String(err)}\nagent log:\n${log}`);
    }
    const st = await agent.state<{ redis_pid: number }>();
    redisPids.add(st.redis_pid);
  });

  after(async () => {
    await agent?.close();
    if (agentProc && agentProc.exitCode === null) {
      agentProc.kill('SIGTERM');
      if (!(await waitExit(agentProc, 15_000))) {
        agentProc.kill('SIGKILL');
        await waitExit(agentProc, 5_000);
      }
    }
    // The agent stops redis on SIGTERM; make sure nothing outlives the test.
    for (const pid of redisPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
    if (process.env.CORE0_TEST_LOG) process.stderr.write(log);
  });

  it('answers ping with its version', async () => {
    assert.equal(await agent!.ping(), `PONG ${VERSION}`);
    assert.equal(await agent!.version(), VERSION);
  });

  it('runs uname -r like the host', async () => {
    const r = await agent!.system('uname', ['-r']);
    assert.equal(r.state, 'SUCCESS');
    assert.equal(r.code, 0);
    assert.equal(r.streams[0].trim(), release());
    assert.equal(r.level, 0, 'a process result carries no JSON data (level 0, as 0-core)');
    assert.equal(typeof r.starttime, 'number');
  });

  it('reports exit codes, stderr, stdin and tags', async () => {
    const r = await agent!.system('sh', ['-c', 'cat; echo oops >&2; exit 3'], { stdin: 'hello\n', tags: { a: [1] } });
    assert.equal(r.state, 'ERROR');
    assert.equal(r.code, 1003, '0-core reports a process exit code as 1000 + code');
    assert.deepEqual(r.streams, ['hello\n', 'oops\n']);
    assert.deepEqual(r.tags, { a: [1] });
    const nf = await agent!.system('/nonexistent/program');
    assert.equal(nf.state, 'ERROR');
    assert.equal(nf.code, 404);
    assert.match(String(nf.value), /no such file/);
  });

  it('streams output while the job runs', async () => {
    const lines: { l: StreamLine; at: number }[] = [];
    const r = await agent!.system('sh', ['-c', 'echo first; sleep 2; echo second >&2'], {
      onLine: (l) => lines.push({ l, at: Date.now() }),
    });
    assert.equal(r.state, 'SUCCESS');
    assert.deepEqual(
      lines.map((x) => x.l),
      [
        { stream: 'stdout', level: 1, line: 'first' },
        { stream: 'stderr', level: 2, line: 'second' },
      ],
    );
    const end = r.starttime + r.time;
    assert.ok(lines[0]!.at < end - 1000, `first line arrived ${end - lines[0]!.at} ms before the end; expected ~2 s`);
  });

  it("keeps a stream list for a late reader, in 0-core's message format", async () => {
    const r = await agent!.system('sh', ['-c', 'echo a; echo b >&2; exit 2'], { stream: true });
    const raw = await rawClient();
    await raw.connect();
    try {
      assert.equal(await raw.type(`stream:${r.id}`), 'list');
      const ttl = await raw.ttl(`stream:${r.id}`);
      assert.ok(ttl > 0 && ttl <= 60, `stream TTL ${ttl}`);
      const entries = (await raw.lRange(`stream:${r.id}`, 0, -1)).map((e) => JSON.parse(e));
      const records = entries.map((e) => [e.core, e.command, e.message.message, e.message.meta]);
      // stdout and stderr are two pipes: their relative order is not defined (nor in 0-core);
      // the EOF record always comes last.
      assert.deepEqual(records.at(-1), [0, r.id, '', (2 << 16) | 0x4]);
      assert.deepEqual(
        records.slice(0, -1).sort((x, y) => x[3] - y[3]),
        [
          [0, r.id, 'a', 1 << 16],
          [0, r.id, 'b', 2 << 16],
        ],
      );
      assert.ok(
        entries.every((e) => typeof e.message.epoch === 'number' && e.message.epoch > 1e18),
        'epoch in ns',
      );
      // Job flag: present, expiring with the result.
      const flagTtl = await raw.ttl(`result:${r.id}:flag`);
      assert.ok(flagTtl > 0 && flagTtl <= 300, `flag TTL ${flagTtl}`);
    } finally {
      raw.destroy();
    }
    const late: string[] = [];
    const fin = await agent!.streamOutput(r.id, (l) => late.push(l.line), { timeoutMs: 5000 });
    assert.deepEqual(late.sort(), ['a', 'b']); // two pipes: no defined order between them
    assert.equal(fin.success, false);
    // The result stays readable (BRPOPLPUSH), as upstream's Response.get() expects.
    assert.equal((await agent!.waitResult(r.id, 1000)).code, 1002);
  });

  it('honours max_restart, log_levels and refuses stats_interval', async () => {
    const dir2 = await mkdtemp(join(tmpdir(), 'core0-restart-'));
    const r = await agent!.system('sh', ['-c', `echo run >> ${dir2}/runs; echo out; echo err >&2; exit 1`], {
      maxRestart: 2,
      logLevels: [2],
    });
    assert.equal(r.state, 'ERROR');
    assert.deepEqual(r.streams, ['', 'err\n']);
    const runs = spawnSync('cat', [join(dir2, 'runs')], { encoding: 'utf8' }).stdout;
    assert.equal(runs, 'run\nrun\n');
    await rm(dir2, { recursive: true, force: true });
    const id = randomUUID();
    await agent!.push(JSON.stringify({ id, command: 'core.ping', stats_interval: 5 }));
    const s = await agent!.waitResult(id, 10_000);
    assert.equal(s.state, 'ERROR');
    assert.match(String(s.value), /stats_interval is not supported/);
  });

  it('kills a job that exceeds max_time', async () => {
    const t0 = Date.now();
    const r = await agent!.system('sleep', ['60'], { maxTime: 1, timeoutMs: 20_000 });
    assert.equal(r.state, 'TIMEOUT');
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('lists and kills a running job', async () => {
    const id = randomUUID();
    const pending = agent!.system('sleep', ['60'], { id, timeoutMs: 20_000 });
    let found = false;
    for (let i = 0; i < 50 && !found; i++) {
      found = (await agent!.jobs()).some((j) => j.id === id && (j.pids?.length ?? 0) > 0);
      if (!found) await sleep(100);
    }
    assert.ok(found, 'job not listed');
    await agent!.kill(id);
    assert.equal((await pending).state, 'KILLED');
  });

  it('answers UNKNOWN_CMD and drops a duplicate id as 0-core does', async () => {
    const u = await agent!.call('no.such.command');
    assert.equal(u.state, 'UNKNOWN_CMD');
    const id = randomUUID();
    await agent!.push({ id, command: 'core.system', arguments: { name: 'sleep', args: ['1'] } });
    await agent!.waitAccepted(id);
    await agent!.push({ id, command: 'core.system', arguments: { name: 'false' } });
    const orig = await agent!.waitResult(id, 10_000);
    assert.equal(orig.state, 'SUCCESS');
    await sleep(500);
    const raw = await rawClient();
    await raw.connect();
    try {
      assert.equal(await raw.lLen(`result:${id}`), 1, 'the duplicate must not add a result');
    } finally {
      raw.destroy();
    }
  });

  it('runs bash scripts with stdin (sh -c, as 0-core)', async () => {
    const r = await agent!.bash('read x; echo "got $x"; echo warn >&2; exit 4', { stdin: 'hello\n' });
    assert.equal(r.state, 'ERROR');
    assert.equal(r.code, 1004);
    assert.deepEqual(r.streams, ['got hello\n', 'warn\n']);
    const bad = await agent!.call('bash', { script: '' });
    assert.equal(bad.code, 400);
    assert.match(String(bad.value), /script is required/);
  });

  it('round-trips a file through filesystem upload/download and manages paths', async () => {
    const base = await mkdtemp(join(tmpdir(), 'core0-fs-'));
    try {
      const data = Buffer.alloc(1_300_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
      await agent!.upload(join(base, 'blob'), data, 0o600);
      assert.ok((await agent!.download(join(base, 'blob'))).equals(data), 'downloaded bytes differ');
      assert.equal(statSync(join(base, 'blob')).mode & 0o777, 0o600);
      await agent!.callOk('filesystem.mkdir', { path: join(base, 'a/b') });
      await agent!.callOk('filesystem.move', { path: join(base, 'a'), destination: join(base, 'c') });
      await agent!.callOk('filesystem.chmod', { path: join(base, 'c'), mode: 0o711, recursive: true });
      assert.equal(statSync(join(base, 'c/b')).mode & 0o777, 0o711);
      await agent!.callOk('filesystem.chown', { path: join(base, 'c'), user: 'root', group: '0', recursive: false });
      const list = await agent!.callOk<{ name: string; is_dir: boolean; size: number }[]>('filesystem.list', {
        path: base,
      });
      assert.deepEqual(list.map((e) => [e.name, e.is_dir]).sort(), [
        ['blob', false],
        ['c', true],
      ]);
      assert.equal(await agent!.callOk('filesystem.exists', { path: join(base, 'c/b') }), true);
      await agent!.callOk('filesystem.remove', { path: join(base, 'c') });
      assert.equal(await agent!.callOk('filesystem.exists', { path: join(base, 'c') }), false);
      // Bad input: clear 400s, nothing touched.
      for (const [cmd, args, re] of [
        ['filesystem.remove', { path: 'relative/path' }, /absolute path/],
        ['filesystem.remove', { path: '/etc' }, /top-level directory/],
        ['filesystem.open', { file: join(base, 'x'), mode: 'rw' }, /exactly one of r, w, a, x/],
        ['filesystem.chmod', { path: base, mode: 0o17777 }, /not a permission/],
        ['filesystem.read', { fd: 'nope' }, /unknown file descriptor/],
        ['filesystem.list', { path: base, extra: 1 }, /unknown field "extra"/],
      ] as const) {
        const r = await agent!.call(cmd, args as Record<string, unknown>);
        assert.equal(r.state, 'ERROR', cmd);
        assert.match(String(r.value), re, cmd);
      }
      const missing = await agent!.call('filesystem.list', { path: join(base, 'nope') });
      assert.equal(missing.code, 404);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('lists and kills processes, subscribes to a job, kills all jobs', async () => {
    const child = spawn('sleep', ['60']);
    const mine = await agent!.callOk<{ pid: number; name: string }[]>('process.list', { pid: child.pid });
    assert.equal(mine[0]!.name, 'sleep');
    await agent!.killProcess(child.pid!, 9);
    assert.ok(await waitExit(child, 5000), 'process.kill did not kill');
    const self = await agent!.call('process.kill', { pid: 1 });
    assert.equal(self.code, 400);
    const gone = await agent!.call('process.kill', { pid: 4_000_000 });
    assert.equal(gone.code, 404);

    const id = randomUUID();
    const job = agent!.system('sh', ['-c', 'sleep 1; echo late; echo late-err >&2'], { id });
    await agent!.waitAccepted(id);
    const seen: StreamLine[] = [];
    await agent!.subscribe(id, (l) => seen.push(l));
    assert.deepEqual(seen.map((l) => [l.level, l.line]).sort(), [
      [1, 'late'],
      [2, 'late-err'],
    ]);
    assert.equal((await job).state, 'SUCCESS');

    const a = agent!.system('sleep', ['60'], { timeoutMs: 20_000 });
    const b = agent!.system('sleep', ['60'], { timeoutMs: 20_000 });
    await sleep(300);
    assert.ok((await agent!.callOk<number>('core.killall')) >= 2);
    assert.deepEqual([(await a).state, (await b).state], ['KILLED', 'KILLED']);
  });

  it('reports listening ports with their process', async () => {
    const ports = await agent!.callOk<{ network: string; port: number; pid: number }[]>('info.port');
    const mgmt = ports.find((p) => p.network === 'tcp' && p.port === port);
    assert.ok(mgmt, `port ${port} not listed`);
    // The management port is core0's own; redis listens on no TCP port at all, only on its unix socket.
    assert.equal(mgmt.pid, agentProc!.pid);
    const st = await agent!.state<{ redis_pid: number }>();
    assert.deepEqual(
      ports.filter((p) => p.pid === st.redis_pid && p.network.startsWith('tcp')),
      [],
      'redis-server listens on TCP',
    );
    const dmi = await agent!.call('info.dmi', { types: ['bios', 1] });
    assert.equal(dmi.state, 'SUCCESS');
    const badDmi = await agent!.call('info.dmi', { types: ['memory'] });
    assert.equal(badDmi.code, 400);
  });

  // Only invalid input here: valid disk/network/nft commands would change the host (they run in test/boot/).
  it('refuses bad disk, btrfs, bridge, ip and nft arguments before touching anything', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['disk.mktable', { disk: '/dev/../etc/passwd' }, /block device path/],
      ['disk.mktable', { disk: '/etc/passwd' }, /block device path/],
      ['disk.mktable', { disk: '/dev/null', table_type: 'gpt' }, /not a block device/],
      ['disk.mkpart', { disk: '/dev/nonexistent-zos', start: '1MiB', end: '100%' }, /does not exist/],
      ['disk.mount', { source: '/dev/nonexistent-zos', target: '/mnt/x', options: '' }, /does not exist/],
      ['disk.umount', { source: '/' }, /refusing to unmount/],
      ['disk.rmpart', { disk: '/dev/null', number: 1 }, /not a block device/],
      ['btrfs.create', { label: 'x', devices: [] }, /at least one device/],
      ['btrfs.create', { label: '-f', devices: ['/dev/vdb'] }, /argument label/],
      ['btrfs.create', { label: 'ok', data: 'raid9', devices: ['/dev/vdb'] }, /argument data must be one of/],
      ['btrfs.subvol_create', { path: 'rel' }, /absolute path/],
      ['bridge.create', { name: 'br;reboot' }, /interface name/],
      [
        'bridge.create',
        { name: 'zbr0', network: { mode: 'static', nat: false, settings: { cidr: 'nonsense' } } },
        /settings.cidr/,
      ],
      [
        'bridge.create',
        { name: 'zbr0', network: { mode: 'dnsmasq', nat: false, settings: {} } },
        /dnsmasq is not supported/,
      ],
      ['bridge.nic-add', { name: 'zbr0', nic: 'eth0 up' }, /interface name/],
      ['ip.link.mtu', { name: 'lo', mtu: 10 }, /mtu must be/],
      ['ip.addr.add', { name: 'lo', ip: '10.0.0.1' }, /prefix length/],
      ['ip.route.add', { dev: 'lo', dst: '10.0.0.0/8', gw: 'gw' }, /argument gw/],
      ['nft.open_port', { port: 70000 }, /port must be/],
      ['nft.open_port', { port: 22, interface: 'eth0" accept' }, /interface name/],
      ['nft.open_port', { port: 22, subnet: '10.0.0.0/99' }, /subnet/],
    ];
    for (const [cmd, args, re] of cases) {
      const r = await agent!.call(cmd, args);
      assert.equal(r.state, 'ERROR', `${cmd} ${JSON.stringify(args)}`);
      assert.equal(r.code, 400, `${cmd} ${JSON.stringify(args)}: ${r.data}`);
      assert.match(String(r.value), re, cmd);
    }
  });

  it('refuses tokens that are unsigned, wrongly signed, expired or for another node, and says why', async () => {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${b64({ alg: 'none' })}.${b64({ aud: NODE, exp: now + 600 })}.`;
    const { privateKey: otherKey } = generateKeyPairSync('ed25519');
    const cases: [string, string, RegExp][] = [
      ['alg none', unsigned, /only EdDSA is accepted/],
      ['other key', mintToken(otherKey, { aud: NODE, ttlS: 600 }), /matches none of the 1 operator key/],
      ['expired', mintToken(testKey, { aud: NODE, ttlS: 60, now: now - 120 }), /expired at/],
      ['other node', mintToken(testKey, { aud: 'zos-other', ttlS: 600 }), /names neither this node/],
      ['other farm', mintToken(testKey, { aud: 'farm:8', ttlS: 600 }), /names neither this node/],
      ['old password', 'zos-qemu-test', /not a JWT/],
    ];
    for (const [name, token, why] of cases) {
      const before = log.length;
      await assert.rejects(AgentClient.connect({ ...opts(), token }), (err: unknown) => {
        assert.ok(err instanceof ZosError, name);
        assert.match(err.message, new RegExp(`agent at 127\\.0\\.0\\.1:${port} refused the token`), name);
        return true;
      });
      for (let i = 0; i < 50 && !why.test(log.slice(before)); i++) await sleep(100);
      assert.match(log.slice(before), why, `${name}: the console says why`);
    }
    await assert.rejects(AgentClient.connect({ ...opts(), token: undefined }), /requires a token/);
    // The farm is an audience too.
    const farm = await AgentClient.connect({ ...opts(), token: mintToken(testKey, { aud: 'farm:7', ttlS: 60 }) });
    assert.equal(await farm.ping(), `PONG ${VERSION}`);
    await farm.close();
  });

  it('refuses a wrong TLS pin before sending anything, and reports the node on first use', async () => {
    const wrong = `sha256:${'AB:'.repeat(31)}AB`;
    const before = log.length;
    let minted = 0;
    const token = () => {
      minted++;
      return mintToken(testKey, { aud: NODE, ttlS: 60 });
    };
    await assert.rejects(AgentClient.connect({ host: '127.0.0.1', port, token, tls: { pin: wrong } }), (err) => {
      assert.match(String(err), /presented TLS certificate sha256:\S+, not the pinned sha256:AB:AB/);
      return true;
    });
    assert.equal(minted, 0, 'no token was even minted for a wrongly pinned node');
    await sleep(500);
    assert.doesNotMatch(log.slice(before), /gate: .*(authenticated|refused token)/, 'the node received no AUTH');
    let seen: [string, string] | undefined;
    const tofu = await AgentClient.connect({
      host: '127.0.0.1',
      port,
      token,
      tls: { onFirstUse: (fp, node) => (seen = [fp, node]) },
    });
    try {
      assert.deepEqual(seen, [pin, NODE]);
      assert.equal(tofu.tlsFingerprint, pin);
      const t = await tofu.callOk<{ tls: boolean; fingerprint: string; audiences: string[] }>('core.tls');
      assert.deepEqual([t.tls, t.fingerprint, t.audiences], [true, pin, [NODE, 'farm:7']]);
    } finally {
      await tofu.close();
    }
    // Plain RESP on the TLS port is not answered.
    await assert.rejects(
      AgentClient.connect({ host: '127.0.0.1', port, token, tls: false, connectTimeoutMs: 2000 }),
      /agent at/,
    );
  });

  it('zos-build agent keygen and token mint keys and tokens a node accepts', async () => {
    const base = await mkdtemp(join(tmpdir(), 'core0-keys-'));
    const { out, restore } = captureStdout();
    const cli = (...a: string[]) =>
      yargs([])
        .command(agentCommand)
        .strict()
        .fail(false)
        .parseAsync(['agent', ...a]);
    try {
      await cli('keygen', '--out', join(base, 'op.pem'));
      await cli('token', '--key', TEST_KEY_FILE, '--node', NODE, '--ttl', '2m');
      await assert.rejects(cli('keygen', '--out', join(base, 'op.pem')), /already exists/);
      await assert.rejects(cli('token', '--key', TEST_KEY_FILE), /--node HOSTNAME or --farm ID is required/);
      await assert.rejects(cli('token', '--key', TEST_KEY_FILE, '--node', 'x', '--ttl', '2d'), /--ttl 2d/);
    } finally {
      restore();
    }
    assert.match(out[0]!, /^ed25519:[A-Za-z0-9_-]{43}\n$/);
    assert.equal(statSync(join(base, 'op.pem')).mode & 0o777, 0o600);
    const token = out[1]!.trim();
    const c = await AgentClient.connect({ host: '127.0.0.1', port, token, tls: { pin } });
    assert.equal(await c.ping(), `PONG ${VERSION}`);
    await c.close();
    await rm(base, { recursive: true, force: true });
  });

  it('survives 1000 malformed commands', async () => {
    const raw = await rawClient();
    await raw.connect();
    try {
      const bad: string[] = [];
      for (let i = 0; i < 1000; i++) {
        switch (i % 10) {
          case 0:
            bad.push(`not json ${i}`);
            break;
          case 1:
            bad.push('[]');
            break;
          case 2:
            bad.push('{"id": 5}');
            break;
          case 3:
            bad.push(`{"id":"bad-${i}"}`);
            break;
          case 4:
            bad.push(`{"id":"bad-${i}","command":"core.system","arguments":[1]}`);
            break;
          case 5:
            bad.push(`{"id":"bad-${i}","command":"core.system","arguments":{"name":42}}`);
            break;
          case 6:
            bad.push(`{"id":"bad-${i}","command":"core.ping","max_time":"x"}`);
            break;
          case 7:
            bad.push('\u0000\xff\xfe');
            break;
          case 8:
            bad.push(`{"id":"${'x'.repeat(200)}","command":"core.ping"}`);
            break;
          default:
            bad.push('{'.repeat(5000));
            break;
        }
      }
      await raw.rPush('core:default', bad);
      // Oversized payload: rejected with ERROR.
      const bigId = randomUUID();
      await raw.rPush(
        'core:default',
        JSON.stringify({ id: bigId, command: 'core.system', arguments: { name: 'cat', stdin: 'x'.repeat(1_100_000) } }),
      );
      const big = await agent!.waitResult(bigId, 30_000);
      assert.equal(big.state, 'ERROR');
      assert.equal(big.code, 413);
      const one = await agent!.waitResult('bad-3', 10_000);
      assert.equal(one.state, 'ERROR');
      assert.match(String(one.value), /missing field command/);
      assert.equal(await agent!.ping(), `PONG ${VERSION}`);
    } finally {
      raw.destroy();
    }
  });

  it('answers info, state and process list', async () => {
    const mem = await agent!.info<{ total: number }>('mem');
    assert.ok(mem.total > 0);
    const os = await agent!.info<{ kernel: { release: string }; hostname: string }>('os');
    assert.equal(os.kernel.release, release());
    const cpus = await agent!.info<unknown[]>('cpu');
    assert.ok(cpus.length > 0);
    await agent!.info('disk');
    await agent!.info('nic');
    const ver = await agent!.info<{ version: string; commands: string[] }>('version');
    assert.equal(ver.version, VERSION);
    assert.ok(ver.commands.includes('core.system'));
    const procs = await agent!.processes<{ pid: number }[]>();
    assert.ok(procs.some((p) => p.pid === agentProc!.pid));
  });

  it('runs queued commands one at a time, in order', async () => {
    const runs = ['a', 'b', 'c'].map((tag) =>
      agent!.system('sh', ['-c', `echo ${tag}; sleep 0.3; date +%s%N`], { queue: 'test-q', timeoutMs: 20_000 }),
    );
    const results = await Promise.all(runs);
    const ends = results.map((r) => r.starttime);
    assert.ok(ends[0]! + 250 <= ends[1]! && ends[1]! + 250 <= ends[2]!, `start times ${ends.join(', ')} overlap`);
  });

  it('zos-build agent exec prints output and exits with the remote code', async () => {
    const { out, restore } = captureStdout();
    const savedExit = process.exitCode;
    let code: typeof process.exitCode;
    try {
      await yargs([])
        .command(agentCommand)
        .strict()
        .parseAsync([
          'agent',
          'exec',
          '--port',
          String(port),
          '--key',
          TEST_KEY_FILE,
          '--pin',
          pin,
          '--',
          'sh',
          '-c',
          'echo from-node; exit 4',
        ]);
      code = process.exitCode;
      await yargs([])
        .command(agentCommand)
        .parseAsync(['agent', 'info', 'mem', '--port', String(port), '--key', TEST_KEY_FILE, '--pin', pin]);
    } finally {
      restore();
      process.exitCode = savedExit;
    }
    assert.equal(out[0], 'from-node\n');
    assert.equal(code, 4);
    assert.ok((JSON.parse(out.slice(1).join('')) as { total: number }).total > 0);
  });

  it('zos-build agent bash, call, upload and download', async () => {
    const base = await mkdtemp(join(tmpdir(), 'core0-cli-'));
    const { out, restore } = captureStdout();
    const savedExit = process.exitCode;
    // fail(false): a failing handler rejects instead of ending the process.
    const cli = (...a: string[]) =>
      yargs([])
        .command(agentCommand)
        .strict()
        .fail(false)
        .parseAsync(['agent', ...a, '--port', String(port), '--key', TEST_KEY_FILE, '--pin', pin]);
    let code: typeof process.exitCode;
    try {
      await cli('bash', 'echo $((6*7)); exit 5');
      code = process.exitCode;
      process.exitCode = savedExit;
      await writeFile(join(base, 'src'), 'payload\n');
      await cli('upload', join(base, 'src'), join(base, 'remote'));
      await cli('download', join(base, 'remote'), join(base, 'back'));
      await cli('call', 'filesystem.exists', JSON.stringify({ path: join(base, 'back') }));
      await assert.rejects(cli('call', 'filesystem.list', '{"path":"relative"}'), /absolute path/);
    } finally {
      restore();
      process.exitCode = savedExit;
    }
    assert.equal(out[0], '42\n');
    assert.equal(code, 5);
    assert.equal(readFileSync(join(base, 'back'), 'utf8'), 'payload\n');
    assert.equal(out.at(-1), 'true\n');
    await rm(base, { recursive: true, force: true });
  });

  it('restarts redis-server when it dies and answers again', async () => {
    const { redis_pid: pid } = await agent!.state<{ redis_pid: number }>();
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    await agent!.close();
    agent = await AgentClient.waitForAgent(opts(), 30_000);
    const st = await agent.state<{ redis_pid: number; redis_restarts: number }>();
    redisPids.add(st.redis_pid);
    assert.notEqual(st.redis_pid, pid);
    assert.ok(st.redis_restarts >= 1);
    assert.equal(await agent.ping(), `PONG ${VERSION}`);
    const r = await agent.system('echo', ['back']);
    assert.equal(r.streams[0], 'back\n');
  });

  /** Starts a second agent with the given kernel command line on a fresh port. */
  async function startOther(cmdline: string): Promise<{ proc: ChildProcess; port: number; out: () => string }> {
    const p = await freePort();
    const sub = await mkdtemp(join(dir, 'other-'));
    await writeFile(join(sub, 'cmdline'), `${cmdline}\n`);
    const proc = spawn(
      join(dir, 'core0'),
      [
        '-redis-server',
        redisServer!,
        '-redis-port',
        String(p),
        '-run-dir',
        join(sub, 'run'),
        '-config',
        join(sub, 'none.conf'),
        '-cmdline',
        join(sub, 'cmdline'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    others.push(proc);
    return { proc, port: p, out: () => out };
  }
  const others: ChildProcess[] = [];
  after(async () => {
    for (const p of others) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        if (!(await waitExit(p, 10_000))) p.kill('SIGKILL');
      }
    }
  });

  it('refuses to serve without an operator key, and says the old password is gone', async () => {
    const o = await startOther('console=ttyS0 runmode=dev zos.password=secret');
    assert.ok(await waitExit(o.proc, 15_000), 'agent kept running without an operator key');
    assert.equal(o.proc.exitCode, 2);
    assert.match(o.out(), /NO OPERATOR KEY CONFIGURED/);
    assert.match(o.out(), /zos\.password is no longer used/);
    assert.doesNotMatch(o.out(), /secret/);
  });

  it('serves plain RESP in runmode=dev, still with tokens', async () => {
    const o = await startOther(`runmode=dev zos.keys=${TEST_PUBLIC_KEY} hostname=devnode`);
    const token = mintToken(testKey, { aud: 'devnode', ttlS: 60 });
    const c = await AgentClient.waitForAgent({ host: '127.0.0.1', port: o.port, token, tls: false }, 30_000);
    try {
      assert.equal(await c.ping(), `PONG ${VERSION}`);
      assert.equal((await c.callOk<{ tls: boolean }>('core.tls')).tls, false);
      const st = await c.state<{ redis_pid: number }>();
      redisPids.add(st.redis_pid);
    } finally {
      await c.close();
    }
    await assert.rejects(AgentClient.connect({ host: '127.0.0.1', port: o.port, tls: false }), /requires a token/);
    assert.match(o.out(), /PLAIN RESP/);
    o.proc.kill('SIGTERM');
    assert.ok(await waitExit(o.proc, 15_000));
  });

  it('serves without authentication in insecure mode, with a warning', async () => {
    const o = await startOther('zos.insecure');
    const c = await AgentClient.waitForAgent({ host: '127.0.0.1', port: o.port, tls: false }, 30_000);
    try {
      assert.equal(await c.ping(), `PONG ${VERSION}`);
      const st = await c.state<{ redis_pid: number }>();
      redisPids.add(st.redis_pid);
    } finally {
      await c.close();
    }
    assert.match(o.out(), /INSECURE MODE/);
    o.proc.kill('SIGTERM');
    assert.ok(await waitExit(o.proc, 15_000));
    assert.equal(o.proc.exitCode, 0);
  });

  it('exits cleanly on SIGTERM and stops redis', async () => {
    const { redis_pid: pid } = await agent!.state<{ redis_pid: number }>();
    await agent!.close();
    agent = undefined;
    agentProc!.kill('SIGTERM');
    assert.ok(await waitExit(agentProc!, 15_000), 'agent did not exit');
    assert.equal(agentProc!.exitCode, 0);
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    assert.ok(!alive(pid), 'redis-server still running');
  });
});
