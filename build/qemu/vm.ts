/**
 * Boots a VM under QEMU (always TCG: KVM hangs on the build machines) and exposes its serial console.
 * Used by the boot tests and meant for a future `zos-build run`.
 */
import { archFacts } from '../arch.js';
import { stripEscapes } from '../util/ansi.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type Firmware = 'bios' | 'uefi';

export interface DiskSpec {
  file: string;
  /** How the disk is attached: USB stick on xHCI, IDE disk or virtio-blk. */
  as: 'usb' | 'ide' | 'virtio';
}

export interface NetbootSpec {
  /** Directory served by QEMU's built-in TFTP server (guest: tftp://10.0.2.2/). */
  tftpDir?: string;
  /** DHCP boot file name: a file in tftpDir, or a URL (http://10.0.2.2:PORT/...) for iPXE. */
  bootfile?: string;
  /** Give the NIC the first boot priority (default true); false = TFTP server only. */
  boot?: boolean;
}

export interface BootOptions {
  firmware: Firmware;
  /**
   * UEFI with Secure Boot enforced: OVMF's secboot build on a q35 machine with SMM, its variable
   * store copied from `vars` (a template with PK/KEK/db enrolled, e.g. ArchFacts.uefi.snakeoilVars).
   */
  secureBoot?: { vars: string };
  kernel?: string;
  initrd?: string;
  append?: string;
  /**
   * A BIOS boot of `kernel` with nothing else to boot from runs qboot (the architecture's
   * qemuDirectBootFirmware) instead of SeaBIOS, unless this is true. qboot leaves PCI resources to
   * the kernel, as Linux expects; a kernel that needs the BIOS's (iPXE's ipxe.lkrn) sets this.
   */
  seabios?: boolean;
  disk?: DiskSpec;
  /** ISO attached as an IDE CD-ROM. */
  cdrom?: string;
  /** Network boot from QEMU's user network (DHCP + TFTP); the NIC gets boot priority. */
  netboot?: NetbootSpec;
  /** A NIC on the user network without boot priority (e.g. for usb-netboot). */
  network?: boolean;
  nic?: 'e1000' | 'e1000e' | 'virtio-net-pci';
  /** Host 127.0.0.1:hostPort → guest guestPort (TCP). */
  hostfwd?: { hostPort: number; guestPort: number }[];
  /** A virtio-rng device fed from the host's /dev/urandom (default true). */
  rng?: boolean;
  memoryMb?: number;
  cpus?: number;
  /** Serial console is appended here (the file is truncated first). */
  consoleLog: string;
  /** Hard limit: the VM is killed after this long (default 300 s). */
  lifetimeMs?: number;
  /**
   * Blank virtio disks (sparse files in the VM's temp dir, deleted with it), after `disk`: with a
   * direct kernel boot the guest sees them as /dev/vda, /dev/vdb, ... in this order.
   */
  extraDisks?: { sizeMb: number }[];
  /** A second NIC (virtio-net on a user network of its own, no host forwards): the guest's second interface. */
  secondNic?: boolean;
  /** Extra QEMU arguments, appended last. */
  extraArgs?: string[];
  qemu?: string;
}

export interface Vm {
  /** The QEMU command line, for logs. */
  readonly argv: string[];
  /** Resolves with the first match once the console shows `re`; rejects on timeout or VM exit. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** QEMU's exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Kills QEMU (SIGKILL) and removes its temp files; safe to call twice. */
  kill(): Promise<void>;
  /** Everything the console printed so far. */
  console(): string;
  /** The console's last `n` lines, escape sequences stripped. */
  tail(n?: number): string;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it, so parallel runs do not clash). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function qemuArgs(o: BootOptions, varsFile: string | undefined, extraDisks: string[]): string[] {
  const a = ['-accel', 'tcg', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nodefaults'];
  // q35 (PCIe, ICH9), not i440FX: on i440FX the kernel spends about 0.5 s per PCI interrupt link in
  // ACPI under TCG (the virtio NIC's and RNG's: 1 s of every boot, see bench/boot.js). SMM only for
  // Secure Boot, where OVMF needs it to guard its variables.
  const machine = o.secureBoot ? 'q35,smm=on' : 'q35';
  a.push('-machine', machine, '-m', String(o.memoryMb ?? 512), '-smp', String(o.cpus ?? 1));
  a.push('-boot', 'menu=off,strict=on');
  if (o.secureBoot) a.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
  // A direct kernel boot on BIOS needs no BIOS: qboot loads the kernel without SeaBIOS's POST.
  const directBoot = o.firmware === 'bios' && o.kernel && !o.disk && !o.cdrom && !o.netboot && !o.seabios;
  if (directBoot) a.push('-bios', archFacts().qemuDirectBootFirmware);
  if (o.firmware === 'uefi') {
    const { uefi } = archFacts();
    a.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${o.secureBoot ? uefi.secureBootCode : uefi.code}`);
    a.push('-drive', `if=pflash,format=raw,unit=1,file=${varsFile}`);
  }
  if (o.kernel) a.push('-kernel', o.kernel);
  if (o.initrd) a.push('-initrd', o.initrd);
  if (o.append !== undefined) a.push('-append', o.append);
  if (o.disk) {
    // snapshot=on: writes go to a temp overlay, the artifact is never modified.
    a.push('-drive', `file=${o.disk.file},format=raw,if=none,id=disk0,snapshot=on`);
    if (o.disk.as === 'usb')
      a.push('-device', 'qemu-xhci,id=xhci', '-device', 'usb-storage,bus=xhci.0,drive=disk0,bootindex=1');
    else if (o.disk.as === 'ide') a.push('-device', 'ide-hd,drive=disk0,bootindex=1');
    else a.push('-device', 'virtio-blk-pci,drive=disk0,bootindex=1');
  }
  if (o.cdrom) {
    a.push('-drive', `file=${o.cdrom},format=raw,if=none,id=cd0,media=cdrom,readonly=on`);
    a.push('-device', 'ide-cd,drive=cd0,bootindex=1');
  }
  if (o.netboot || o.network || o.hostfwd?.length) {
    let netdev = 'user,id=n0';
    if (o.netboot?.tftpDir) netdev += `,tftp=${o.netboot.tftpDir}`;
    if (o.netboot?.bootfile) netdev += `,bootfile=${o.netboot.bootfile}`;
    for (const f of o.hostfwd ?? []) netdev += `,hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`;
    a.push('-netdev', netdev);
    const bootNic = o.netboot !== undefined && o.netboot.boot !== false;
    // A bootindex on the NIC even when it is not the boot device: OVMF connects only the devices in
    // QEMU's boot order, and GRUB's efinet needs the NIC's SNP connected.
    // A direct kernel boot never runs the NIC's option ROM (iPXE): loading it costs firmware time.
    const rom = o.kernel && !o.netboot ? ',romfile=' : '';
    a.push('-device', `${o.nic ?? 'e1000'},netdev=n0,bootindex=${bootNic ? 0 : 9}${rom}`);
  }
  // Entropy from the host, so the guest's random pool is ready at once (redis-server blocks on it).
  if (o.rng !== false) {
    a.push('-object', 'rng-random,id=rng0,filename=/dev/urandom', '-device', 'virtio-rng-pci,rng=rng0');
  }
  extraDisks.forEach((file, i) => {
    a.push('-drive', `file=${file},format=raw,if=none,id=xdisk${i}`, '-device', `virtio-blk-pci,drive=xdisk${i}`);
  });
  // Its own subnet: on 10.0.2.0/24 too, the guest's DHCP gives both NICs 10.0.2.15 and replies to the
  // forwarded agent port can leave through the wrong one (the host sees a reset connection).
  if (o.secondNic) a.push('-netdev', 'user,id=n1,restrict=on,net=10.0.3.0/24', '-device', 'virtio-net-pci,netdev=n1');
  a.push(...(o.extraArgs ?? []));
  return a;
}

export async function bootVm(o: BootOptions): Promise<Vm> {
  const tmp = await mkdtemp(join(tmpdir(), 'zos-vm-'));
  let varsFile: string | undefined;
  if (o.secureBoot && o.firmware !== 'uefi') throw new Error('bootVm: secureBoot needs firmware "uefi"');
  if (o.firmware === 'uefi') {
    varsFile = join(tmp, 'OVMF_VARS.fd');
    await copyFile(o.secureBoot?.vars ?? archFacts().uefi.vars, varsFile);
  }
  const extraDisks: string[] = [];
  for (const [i, d] of (o.extraDisks ?? []).entries()) {
    const file = join(tmp, `disk${i}.img`);
    await writeFile(file, '');
    await truncate(file, d.sizeMb * 1024 * 1024);
    extraDisks.push(file);
  }
  const argv = [o.qemu ?? archFacts().qemu, ...qemuArgs(o, varsFile, extraDisks)];
  await mkdir(dirname(o.consoleLog), { recursive: true });
  const logStream: WriteStream = createWriteStream(o.consoleLog, { flags: 'w' });
  logStream.write(`# ${argv.join(' ')}\n`);
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    const s = chunk.toString('latin1');
    out += s;
    logStream.write(chunk);
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      out += `\n[qemu failed to start: ${err.message}]\n`;
      resolve(-1);
    });
    child.on('exit', (code) => resolve(code));
  }).then(async (code) => {
    done = true;
    clearTimeout(killer);
    for (const l of [...listeners]) l();
    await new Promise<void>((r) => logStream.end(r));
    await rm(tmp, { recursive: true, force: true });
    return code;
  });
  const killer = setTimeout(() => {
    out += `\n[zos qemu harness: lifetime of ${o.lifetimeMs ?? 300_000} ms exceeded, killing the VM]\n`;
    child.kill('SIGKILL');
  }, o.lifetimeMs ?? 300_000);
  killer.unref();

  const tail = (n = 40) => stripEscapes(out).split('\n').slice(-n).join('\n');
  const vm: Vm = {
    argv,
    exited,
    console: () => out,
    tail,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = stripEscapes(out).match(re);
          if (m) {
            finish();
            resolve(m);
          } else if (done) {
            finish();
            reject(new Error(`VM exited before the console showed ${re}; last lines:\n${tail()}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; last lines:\n${tail()}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (!done && child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return vm;
}
