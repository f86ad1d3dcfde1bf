/**
 * Boot-time benchmark: boots the built qemu profile straight from vmlinuz + initramfs (TCG, as the
 * test suite does) and prints when each boot phase showed up against the issue 12 target (QEMU start
 * -> agent PONG <= 3.5 s): console markers as the host saw them, the kernel's own from its log (read
 * through the agent, placed on the host's clock at /init). Not a test: it prints numbers.
 *
 *   node dist/bench/boot.js [--out out] [--runs 3] [--cpus 1] [--no-rng] [--seabios] [--append ARGS]
 *                           [--dmesg FILE] [--uncompressed] [--initrd FILE]
 *
 * --cpus sets the VM's CPU count (default 1, as the boot tests boot).
 * --no-rng leaves the virtio-rng device out, to see what the kernel's random pool costs without it.
 * --seabios boots through SeaBIOS instead of qboot, to see what the full BIOS costs.
 * --append adds kernel arguments (e.g. initcall_debug); --dmesg saves the last boot's kernel log.
 * --uncompressed boots the same initramfs decompressed, to show what unpacking its compression costs.
 * --initrd boots FILE instead of the profile's initramfs (e.g. the same cpio under another compressor).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { AgentClient } from '../build/agent-client/client.js';
import { readManifest } from '../build/publish/out-dir.js';
import { decompress, sniff } from '../build/release/compare.js';
import { bootVm, freePort } from '../build/qemu/index.js';
import { testAuth } from '../test/helpers/operator.js';

const TARGET_S = 3.5;

const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
const outDir = join(resolve(opt('--out', 'out')), 'qemu');
const runs = Number(opt('--runs', '1'));
const rng = !args.includes('--no-rng');
const extraAppend = opt('--append', '');
const dmesgFile = opt('--dmesg', '');
const uncompressed = args.includes('--uncompressed');
const cpus = Number(opt('--cpus', '1'));
const seabios = args.includes('--seabios');

/**
 * Markers on the serial console, seen from the host. The kernel's own messages are not among them:
 * the qemu profile boots `quiet` (they cost time on the emulated UART), so they come from its log.
 */
const AGENT_LISTENING = /serving commands on port/;
const ADDRESS_BOUND = /udhcpc: \S+ bound/;
const CONSOLE_PHASES: ReadonlyArray<[string, RegExp]> = [
  ['firmware output', /\S/],
  ['/init banner', /ZOS-BOOT: zos-build/],
  ['layers mounted', /mounted \d+ image layers/],
  ['redis-server started', /Redis is starting|Redis version=/],
  ['agent listening', AGENT_LISTENING],
  ['address bound (DHCP)', ADDRESS_BOUND],
];

/** Kernel log markers (dmesg, read through the agent), placed on the host's clock through /init. */
const KERNEL_PHASES: ReadonlyArray<[string, RegExp]> = [
  ['kernel starts', /Linux version/],
  ['initramfs unpacking', /Unpacking initramfs|Trying to unpack rootfs/],
  ['crng init done', /random: crng init done/],
  ['initramfs unpacked', /Freeing initrd memory/],
  ['kernel runs /init', /Run \/init as init process/],
];

/** Seconds of kernel time of each marker in a `dmesg` text (printk.time=1). */
function kernelTimes(dmesg: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of dmesg.split('\n')) {
    const m = /^\[\s*(\d+\.\d+)\]\s(.*)$/.exec(line);
    if (!m) continue;
    for (const [name, re] of KERNEL_PHASES) if (!out.has(name) && re.test(m[2]!)) out.set(name, Number(m[1]));
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One connect + PING; true if the agent answered. */
async function tryPing(port: number, connectTimeoutMs: number): Promise<boolean> {
  let agent: AgentClient | undefined;
  try {
    agent = await AgentClient.connect({ host: '127.0.0.1', port, ...testAuth(), connectTimeoutMs });
    await agent.ping({ timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  } finally {
    await agent?.close();
  }
}

/**
 * Seconds from `t0` until the agent answers PING. The client asks once the console says the node
 * is reachable (agent listening, address bound), then every 50 ms: one asking earlier waits inside
 * QEMU's user network for a SYN retransmit (about 1 s) and measures that, and several asking at once
 * measure how the emulated CPU copes with their TLS handshakes.
 */
async function pong(
  port: number,
  t0: number,
  deadline: number,
  reachable: Promise<unknown>,
): Promise<number | undefined> {
  await reachable.catch(() => undefined);
  while (Date.now() < deadline) {
    if (await tryPing(port, 3000)) return (Date.now() - t0) / 1000;
    await sleep(50);
  }
  return undefined;
}

async function bootOnce(kernel: string, initrd: string, cmdline: string): Promise<Map<string, number | undefined>> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'zos-bench-boot-'));
  const t0 = Date.now();
  const vm = await bootVm({
    firmware: 'bios',
    kernel,
    initrd,
    append: `${cmdline} printk.time=1 ${extraAppend}`.trim(),
    network: true,
    nic: 'virtio-net-pci',
    hostfwd: [{ hostPort: port, guestPort: 6379 }],
    memoryMb: 512,
    cpus,
    seabios,
    rng,
    consoleLog: join(dir, 'console.log'),
    lifetimeMs: 180_000,
  });
  try {
    const seen = new Map<string, number | undefined>();
    const waits = CONSOLE_PHASES.map(([name, re]) =>
      vm.waitFor(re, 120_000).then(
        () => seen.set(name, (Date.now() - t0) / 1000),
        () => seen.set(name, undefined),
      ),
    );
    const reachable = Promise.all([vm.waitFor(AGENT_LISTENING, 120_000), vm.waitFor(ADDRESS_BOUND, 120_000)]);
    seen.set('agent PONG', await pong(port, t0, t0 + 120_000, reachable));
    // Markers still missing once the agent answered are not coming.
    await Promise.race([Promise.all(waits), sleep(500)]);
    const initAt = seen.get('/init banner');
    if (seen.get('agent PONG') !== undefined && initAt !== undefined) {
      const agent = await AgentClient.connect({ host: '127.0.0.1', port, ...testAuth() });
      try {
        const dmesg = (await agent.system('dmesg', [])).streams[0];
        if (dmesgFile) await writeFile(dmesgFile, dmesg);
        const kernel = kernelTimes(dmesg);
        // /init prints its banner first thing: the kernel's "Run /init" is that moment on its clock.
        const runInit = kernel.get('kernel runs /init');
        if (runInit !== undefined) for (const [name, at] of kernel) seen.set(name, initAt - runInit + at);
      } finally {
        await agent.close();
      }
    }
    return seen;
  } finally {
    await vm.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

const manifest = await readManifest(outDir);
if (!manifest) throw new Error(`${outDir}/manifest.json is missing: build the qemu profile first`);
const initramfs = manifest.artifacts.find((a) => a.file.startsWith('initramfs.cpio.'));
if (!initramfs) throw new Error(`${outDir} has no initramfs`);
const results: Array<Map<string, number | undefined>> = [];
const kernel = join(outDir, 'vmlinuz');
const ownInitrd = opt('--initrd', '');
let initrd = ownInitrd ? resolve(ownInitrd) : join(outDir, initramfs.file);
const initrdLabel = `${basename(initrd)} ${(await stat(initrd)).size} bytes`;
// --uncompressed: the same archives decompressed into a scratch file (the kernel reads plain newc too).
const scratch = uncompressed ? await mkdtemp(join(tmpdir(), 'zos-bench-initrd-')) : undefined;
if (scratch) {
  const format = sniff((await readFile(initrd)).subarray(0, 16));
  if (format !== 'xz' && format !== 'zstd' && format !== 'gzip' && format !== 'lz4')
    throw new Error(`${initrd}: not a compressed initramfs (${format})`);
  const plain = join(scratch, 'initramfs.cpio');
  await writeFile(plain, await decompress(initrd, format));
  initrd = plain;
}
try {
  for (let i = 0; i < runs; i++) results.push(await bootOnce(kernel, initrd, manifest.cmdline));
} finally {
  if (scratch) await rm(scratch, { recursive: true, force: true });
}

const names = [...CONSOLE_PHASES, ...KERNEL_PHASES].map(([n]) => n).concat('agent PONG');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const image = uncompressed ? `${initrdLabel}, decompressed` : initrdLabel;
const machine = `${cpus} CPU${cpus > 1 ? 's' : ''}, ${seabios ? 'SeaBIOS' : 'qboot'}, virtio-rng ${rng ? 'on' : 'off'}`;
console.log(`qemu profile, direct kernel boot (TCG, ${machine}), ${image}, median of ${runs}`);
console.log(`${'phase'.padEnd(24)} ${'at s'.padStart(7)} ${'+s'.padStart(7)}`);
let prev = 0;
const seenAt = (n: string) => results.map((r) => r.get(n)).filter((x): x is number => x !== undefined);
const rows = names.map((n) => [n, median(seenAt(n))] as const);
for (const [name, at] of [...rows].sort((a, b) => (a[1] ?? Infinity) - (b[1] ?? Infinity))) {
  if (at === undefined) {
    console.log(`${name.padEnd(24)} ${'not seen'.padStart(7)}`);
    continue;
  }
  console.log(`${name.padEnd(24)} ${at.toFixed(2).padStart(7)} ${(at - prev).toFixed(2).padStart(7)}`);
  prev = at;
}
const total = rows.find(([n]) => n === 'agent PONG')![1];
const verdict = total !== undefined && total <= TARGET_S ? 'ok' : 'MISSED';
console.log(
  `QEMU start -> agent PONG: ${total === undefined ? 'no answer' : `${total.toFixed(2)} s`}, target <= ${TARGET_S} s: ${verdict}`,
);
