import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { readManifest } from '../../publish/out-dir.js';
import { archFacts } from '../../arch.js';
import { bootVm, type BootOptions } from '../../qemu/index.js';
import { buildAbort } from '../../util/exec.js';
import { ZosError } from '../../util/errors.js';
import { exists } from '../../util/fs.js';
import { DEFAULT_PROFILE } from '../session.js';

interface RunArgs {
  profile: string;
  out: string;
  from: 'kernel' | 'usb' | 'iso';
  firmware: 'bios' | 'uefi';
  secureBoot?: string;
  port: number;
  append?: string;
  memory: number;
  minutes: number;
}

const command: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: "boot a built image in QEMU (TCG) with the serial console here and the agent's Redis on 127.0.0.1:--port",
  builder: (y) =>
    y
      .option('profile', {
        alias: 'p',
        type: 'string',
        default: DEFAULT_PROFILE,
        describe: 'which out/<profile>/ to boot',
      })
      .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'output root the profile was built into' })
      .option('from', {
        choices: ['kernel', 'usb', 'iso'] as const,
        default: 'kernel' as const,
        describe: 'vmlinuz + initramfs, usb.img or zos.iso',
      })
      .option('firmware', {
        choices: ['bios', 'uefi'] as const,
        default: 'bios' as const,
        describe: 'BIOS (qboot for --from kernel, else SeaBIOS) or UEFI (OVMF)',
      })
      .option('secure-boot', {
        type: 'string',
        describe:
          'UEFI Secure Boot on, with this OVMF variable store template (keys enrolled), e.g. ' +
          `${archFacts().uefi.snakeoilVars} for a build signed with Debian's snakeoil key (docs/secure-boot.md)`,
      })
      .option('port', {
        type: 'number',
        default: 16379,
        describe: "host port forwarded to the node's management port (6379)",
      })
      .option('append', {
        type: 'string',
        describe: "kernel arguments added to the image's command line (kernel only), e.g. zos.keys=ed25519:...",
      })
      .option('memory', { type: 'number', default: 1024, describe: 'guest memory, MiB' })
      .option('minutes', { type: 'number', default: 60, describe: 'stop the VM after this long' }) as never,
  async handler(argv) {
    if (argv.secureBoot !== undefined) {
      if (argv.firmware !== 'uefi' || argv.from === 'kernel')
        throw new ZosError(
          '--secure-boot needs --firmware uefi and --from usb or iso',
          'Secure Boot is UEFI only, and a direct kernel boot has no signed image to verify.',
        );
      if (!(await exists(argv.secureBoot)))
        throw new ZosError(
          `--secure-boot ${argv.secureBoot}: no such file`,
          `Debian's test store: ${archFacts().uefi.snakeoilVars}`,
        );
    }
    const dir = join(resolve(argv.out), argv.profile);
    const manifest = await readManifest(dir);
    if (!manifest)
      throw new ZosError(`${dir} has no manifest.json`, `Build it first: zos-build build --profile ${argv.profile}`);
    const has = (file: string) => {
      if (!manifest.artifacts.some((a) => a.file === file))
        throw new ZosError(
          `profile ${argv.profile} has no ${file} in ${dir}`,
          'Add the artifact to the profile, or pick another --from.',
        );
      return join(dir, file);
    };
    const media: Partial<BootOptions> =
      argv.from === 'kernel'
        ? {
            kernel: has('vmlinuz'),
            initrd: has(
              manifest.artifacts.find((a) => a.file.startsWith('initramfs.cpio.'))?.file ?? 'initramfs.cpio.xz',
            ),
            append: [manifest.cmdline, argv.append].filter(Boolean).join(' '),
          }
        : argv.from === 'usb'
          ? { disk: { file: has('usb.img'), as: 'usb' } }
          : { cdrom: has('zos.iso') };
    const consoleLog = join(resolve(argv.out), 'logs', argv.profile, 'run-console.log');
    const vm = await bootVm({
      firmware: argv.firmware,
      secureBoot: argv.secureBoot === undefined ? undefined : { vars: resolve(argv.secureBoot) },
      ...media,
      hostfwd: [{ hostPort: argv.port, guestPort: 6379 }],
      memoryMb: argv.memory,
      consoleLog,
      lifetimeMs: argv.minutes * 60_000,
    });
    console.error(
      `zos ${manifest.version} (${argv.profile}) booting from ${argv.from}; agent at 127.0.0.1:${argv.port}, e.g. zos-build agent ping --port ${argv.port} --wait 120 --key <operator key> --pin <the console's TLS fingerprint>; console log ${consoleLog}`,
    );
    buildAbort.signal.addEventListener('abort', () => void vm.kill());
    // Relay the serial console as it grows.
    let shown = 0;
    const relay = setInterval(() => {
      const text = vm.console();
      if (text.length > shown) process.stdout.write(text.slice(shown));
      shown = text.length;
    }, 200);
    const code = await vm.exited;
    clearInterval(relay);
    process.stdout.write(vm.console().slice(shown));
    if (code !== 0) process.exitCode = code ?? 1;
  },
};
export default command;
