/** Shared helpers of the boot tests: where the artifacts are, the expected banner, booting with diagnostics. */
import assert from 'node:assert/strict';
import { AgentClient } from '../../build/agent-client/client.js';
import qemuProfile from '../../config/qemu.js';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { archFacts } from '../../build/arch.js';
import { writers, type ArtifactInput, type NetbootSettings } from '../../build/artifacts/index.js';
import { bootCommandLine } from '../../build/artifacts/scripts.js';
import type { ArtifactKind } from '../../build/profile/types.js';
import { bootVm, freePort, type BootOptions } from '../../build/qemu/index.js';
import { makeFat } from '../../build/artifacts/common.js';
import { StepLog } from '../../build/util/exec.js';
import { decompress, sniff } from '../../build/release/compare.js';
import { FINGERPRINT_RE, testAuth } from '../helpers/operator.js';

export const execFileP = promisify(execFile);

/** Repository root (this file runs from dist/test/boot/). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const OUT = resolve(process.env.ZOS_TEST_OUT ?? join(REPO, 'out', 'qemu'));

/** Per boot: generous for TCG on 2 shared cores, but bounded. */
export const BOOT_TIMEOUT_MS = Number(process.env.ZOS_TEST_BOOT_TIMEOUT_MS ?? 180_000);

/** The part of out/<profile>/manifest.json the boot tests read (a fixture dir may have less). */
interface Manifest {
  version?: string;
  cmdline?: string;
  recipes?: Array<{ name: string }>;
}

export function manifest(dir = OUT): Manifest {
  const f = join(dir, 'manifest.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Manifest) : {};
}

export function expectedVersion(): string {
  const v = manifest().version ?? process.env.ZOS_TEST_VERSION;
  if (!v)
    throw new Error(
      `no expected version: ${join(OUT, 'manifest.json')} has no "version" and ZOS_TEST_VERSION is unset`,
    );
  return v;
}

export function bannerRe(version: string): RegExp {
  return new RegExp(`ZOS-BOOT: zos-build ${version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(build [^)\\n]*\\)`);
}

/** The initramfs in the output dir (initramfs.cpio.xz, .gz, .zst, ...). */
export function initramfsPath(dir = OUT): string {
  const f = readdirSync(dir).find((n) => /^initramfs\.cpio(\.[a-z0-9]+)?$/.test(n));
  if (!f) throw new Error(`no initramfs.cpio.* in ${dir}`);
  return join(dir, f);
}

/** The initramfs of the output dir, decompressed (whatever the profile's compressor): a newc archive. */
export async function initramfsCpio(dir = OUT): Promise<Buffer> {
  const file = initramfsPath(dir);
  const fmt = sniff(readFileSync(file).subarray(0, 16));
  if (fmt === 'cpio') return readFileSync(file);
  if (fmt !== 'xz' && fmt !== 'gzip' && fmt !== 'zstd' && fmt !== 'lz4') throw new Error(`${file}: ${fmt}`);
  return decompress(file, fmt);
}

export interface NodeBootOptions {
  /** Names the console log: consoleLogPath(name), overwritten by the next run. */
  name: string;
  append?: string;
  lifetimeMs: number;
  /** The NIC the agent is reached over (default virtio-net, built into the qemu kernel). */
  nic?: BootOptions['nic'];
  /** Only that NIC: no second NIC, no extra disks. */
  bare?: boolean;
  /** The output dir to boot (default OUT, the qemu profile's), with its manifest's command line. */
  out?: string;
}

/**
 * A qemu-profile node as the management tests want it: direct kernel boot, a virtio NIC with the
 * agent's port forwarded, a second NIC, and three sparse 300 MiB virtio disks (vda, vdb, vdc; btrfs
 * needs > 109 MiB a device). Resolves once the agent answers.
 */
export async function bootNode(o: NodeBootOptions): Promise<{
  vm: Awaited<ReturnType<typeof bootVm>>;
  agent: AgentClient;
  /** The host port forwarded to the node's management port. */
  port: number;
}> {
  const { vm, port } = await bootNodeVm(o);
  // The operator's way in: the pin from the node's console, a token from the test operator key.
  const agent = await vm
    .waitFor(FINGERPRINT_RE, 240_000)
    .then((m) => AgentClient.waitForAgent({ host: '127.0.0.1', port, ...testAuth(m[1]) }, 240_000))
    .catch(async (err: Error) => {
      const tail = vm.tail(40);
      await vm.kill();
      throw new Error(`${err.message}\n--- console tail ---\n${tail}`);
    });
  return { vm, agent, port };
}

/** The VM of bootNode, without waiting for the agent; `port` is the host end of the agent's port 6379. */
export async function bootNodeVm(o: NodeBootOptions): Promise<{
  vm: Awaited<ReturnType<typeof bootVm>>;
  port: number;
}> {
  const port = await freePort();
  const out = o.out ?? OUT;
  const cmdline = manifest(out).cmdline ?? bootCommandLine(qemuProfile);
  const vm = await bootVm({
    firmware: 'bios',
    kernel: join(out, 'vmlinuz'),
    initrd: initramfsPath(out),
    append: `${cmdline} ${o.append ?? ''}`.trim(),
    network: true,
    nic: o.nic ?? 'virtio-net-pci',
    secondNic: !o.bare,
    hostfwd: [{ hostPort: port, guestPort: 6379 }],
    extraDisks: o.bare ? [] : [{ sizeMb: 300 }, { sizeMb: 300 }, { sizeMb: 300 }],
    memoryMb: 768,
    consoleLog: consoleLogPath(o.name),
    lifetimeMs: o.lifetimeMs,
  });
  return { vm, port };
}

/** Kernel command line for direct boots: the manifest's, else the one the qemu profile's artifacts carry. */
export function directCmdline(): string {
  return manifest().cmdline ?? bootCommandLine(qemuProfile);
}

export function artifact(rel: string): string {
  return join(OUT, rel);
}

/** Skips the test when the profile did not produce this artifact. */
export function need(t: TestContext, rel: string): boolean {
  if (existsSync(artifact(rel))) return true;
  t.skip(`${artifact(rel)} not built by this profile`);
  return false;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `zos-boot-test-${prefix}-`));
}

/** Where a boot test's serial console is written ($ZOS_TEST_LOGS, else a temp dir). */
export function consoleLogPath(name: string): string {
  return join(process.env.ZOS_TEST_LOGS ?? join(tmpdir(), 'zos-boot-logs'), `${name}.log`);
}

/**
 * Boots, waits for the banner with the expected version, reports the boot time as a diagnostic and
 * always kills the VM. Failures carry the console's last lines; the full console is in `consoleLog`.
 */
export async function bootExpectBanner(
  t: TestContext,
  name: string,
  opts: Omit<BootOptions, 'consoleLog'>,
  /** Asked of the node once its agent answered, before the VM is killed. */
  whileUp?: (agent: AgentClient) => Promise<void>,
): Promise<number> {
  const version = expectedVersion();
  const consoleLog = consoleLogPath(name);
  const t0 = Date.now();
  // The agent's Redis, forwarded to the host: a node that is up answers core.ping.
  const agentPort = await freePort();
  const hostfwd = [...(opts.hostfwd ?? []), { hostPort: agentPort, guestPort: 6379 }];
  const vm = await bootVm({ memoryMb: 512, lifetimeMs: BOOT_TIMEOUT_MS + 30_000, ...opts, hostfwd, consoleLog });
  try {
    await vm.waitFor(bannerRe(version), BOOT_TIMEOUT_MS);
    const secs = (Date.now() - t0) / 1000;
    t.diagnostic(`${name}: banner "zos-build ${version}" after ${secs.toFixed(1)} s (console: ${consoleLog})`);
    if (manifest().recipes?.some((r) => r.name === 'core0')) {
      const agent = await AgentClient.waitForAgent(
        { host: '127.0.0.1', port: agentPort, ...testAuth() },
        BOOT_TIMEOUT_MS,
      );
      try {
        assert.equal(await agent.ping(), `PONG ${version}`);
        t.diagnostic(`${name}: agent answered after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        await whileUp?.(agent);
      } finally {
        await agent.close();
      }
    } else if (whileUp) throw new Error(`${OUT} has no agent (core0) to ask`);
    return secs;
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}\n(full console: ${consoleLog})`);
  } finally {
    await vm.kill();
  }
}

/**
 * The kernel's own word that it runs under Secure Boot, read from its log through the agent (the
 * serial console can lose characters on a loaded host: "Securboot enabled" was seen).
 */
export async function assertSecureBootOn(agent: AgentClient, name: string): Promise<void> {
  const r = await agent.system('dmesg', []);
  assert.equal(r.state, 'SUCCESS', r.streams[1]);
  assert.match(r.streams[0]!, /Secure boot enabled/, `${name}: the kernel did not run under Secure Boot`);
}

export interface FileServer {
  port: number;
  /** Paths requested so far, e.g. ['/boot.ipxe', '/vmlinuz']. */
  requests: string[];
  close(): Promise<void>;
}

/** A read-only HTTP server on 127.0.0.1 for `dir` (guests reach it as 10.0.2.2:port). */
export async function serveDir(dir: string): Promise<FileServer> {
  const requests: string[] = [];
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(path);
    const file = normalize(join(root, path));
    if (!file.startsWith(`${root}/`) || req.method !== 'GET') {
      res.writeHead(403).end();
      return;
    }
    stat(file)
      .then(
        (st) => {
          if (!st.isFile()) throw new Error('not a file');
          // GRUB's HTTP client matches "Content-Length: " case-sensitively; without it, it reads until
          // the connection closes. So: canonical header names and no keep-alive.
          res.shouldKeepAlive = false;
          res.writeHead(200, {
            'Content-Length': st.size,
            'Content-Type': 'application/octet-stream',
            Connection: 'close',
          });
          createReadStream(file).pipe(res);
        },
        () => res.writeHead(404).end(),
      )
      .catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Runs one artifact writer on the output dir's kernel and initramfs (iPXE binaries from netboot/),
 * into `outDir`. Tests use it for determinism checks and to make netboot artifacts whose base URL
 * points at the test's own HTTP server.
 */
export async function writeArtifact(
  kind: ArtifactKind,
  outDir: string,
  netboot: Partial<NetbootSettings> = {},
  epoch = 1_700_000_000,
  extra: Pick<ArtifactInput, 'netbootVerify' | 'signer'> = {},
): Promise<string[]> {
  const workDir = await tempDir(`work-${kind}`);
  const log = await StepLog.create(join(outDir, 'logs', `${kind}.log`));
  try {
    return await writers[kind].write({
      vmlinuz: artifact('vmlinuz'),
      initramfs: initramfsPath(),
      cmdline: directCmdline(),
      version: expectedVersion(),
      netboot: { baseUrl: '', runmode: 'dev', farmId: 'test', extraArgs: '', ...netboot },
      ipxeDir: artifact('netboot'),
      outDir,
      workDir,
      epoch,
      log,
      arch: archFacts(),
      ...extra,
    });
  } finally {
    log.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** A FAT disk with `efi` at the firmware's removable-media path (EFI/BOOT/BOOTX64.EFI). */
export async function espWith(efi: string, scratch: string, name: string): Promise<string> {
  const esp = join(scratch, `${name}.img`);
  const log = await StepLog.create(join(scratch, `${name}.log`));
  try {
    await makeFat({
      image: esp,
      label: 'ESP',
      serial: '12345678',
      files: [{ src: efi, dest: 'EFI/BOOT/BOOTX64.EFI' }],
      slackBytes: 1 << 20,
      epoch: 0,
      workDir: scratch,
      log,
    });
  } finally {
    log.close();
  }
  return esp;
}
