import type { CommandModule } from 'yargs';
import { which } from '../../graph/inputs.js';
import { archFacts } from '../../arch.js';
import { exists } from '../../util/fs.js';

const arch = archFacts();

/** Host commands the build and the tests run, the Debian package of each, and why. */
export const HOST_TOOLS: ReadonlyArray<{ cmd: string; pkg: string; why: string }> = [
  { cmd: 'make', pkg: 'make', why: 'kernel, busybox, redis' },
  { cmd: 'gcc', pkg: 'gcc', why: 'kernel, host tools of kbuild' },
  { cmd: 'ld', pkg: 'binutils', why: 'linking' },
  { cmd: 'strip', pkg: 'binutils', why: 'release binaries' },
  { cmd: 'bison', pkg: 'bison', why: 'kconfig' },
  { cmd: 'flex', pkg: 'flex', why: 'kconfig' },
  { cmd: 'bc', pkg: 'bc', why: 'kernel build' },
  { cmd: 'perl', pkg: 'perl', why: 'kernel build' },
  { cmd: 'rsync', pkg: 'rsync', why: 'kernel headers_install' },
  { cmd: 'depmod', pkg: 'kmod', why: 'kernel modules' },
  { cmd: 'musl-gcc', pkg: 'musl-tools', why: 'static busybox and redis' },
  { cmd: 'go', pkg: 'golang-go', why: 'the core0 agent' },
  { cmd: 'pkg-config', pkg: 'pkg-config', why: 'userland against the sysroot' },
  { cmd: 'patch', pkg: 'patch', why: 'recipe patches' },
  { cmd: 'autoreconf', pkg: 'autoconf', why: 'autotools recipes without configure' },
  { cmd: 'automake', pkg: 'automake', why: 'autotools recipes without configure' },
  { cmd: 'libtoolize', pkg: 'libtool', why: 'autotools recipes without configure' },
  { cmd: 'cmake', pkg: 'cmake', why: 'cmake recipes' },
  { cmd: 'ninja', pkg: 'ninja-build', why: 'cmake and meson recipes' },
  { cmd: 'xz', pkg: 'xz-utils', why: 'kernel source, xz initramfs' },
  { cmd: 'bzip2', pkg: 'bzip2', why: 'busybox source' },
  { cmd: 'zstd', pkg: 'zstd', why: "zstd initramfs, the qemu profile's kernel" },
  { cmd: 'lz4', pkg: 'lz4', why: 'lz4 initramfs' },
  { cmd: 'gzip', pkg: 'gzip', why: 'gzip initramfs, sources' },
  { cmd: 'mksquashfs', pkg: 'squashfs-tools', why: 'mounted layers of the image' },
  { cmd: 'unsquashfs', pkg: 'squashfs-tools', why: 'tests: reading mounted layers back' },
  { cmd: 'dpkg-deb', pkg: 'dpkg', why: 'unpacking Debian packages (ipxe, firmware)' },
  { cmd: 'cpio', pkg: 'cpio', why: 'tests: reading the initramfs back' },
  { cmd: 'bsdtar', pkg: 'libarchive-tools', why: 'tests: reading the initramfs back' },
  { cmd: arch.qemu, pkg: arch.qemuPackage, why: 'boot tests, zos-build run' },
  { cmd: 'redis-server', pkg: 'redis-server', why: 'tests: agent on the host' },
  { cmd: 'openssl', pkg: 'openssl', why: 'tests: outbound mode (management Redis certificate)' },
  { cmd: 'xorriso', pkg: 'xorriso', why: 'zos.iso' },
  { cmd: 'mcopy', pkg: 'mtools', why: 'FAT images without mounting' },
  { cmd: 'mkfs.vfat', pkg: 'dosfstools', why: 'ESP / USB images' },
  { cmd: 'sfdisk', pkg: 'fdisk', why: 'GPT of usb.img' },
  { cmd: 'sgdisk', pkg: 'gdisk', why: 'tests: reading the GPT of usb.img back' },
  { cmd: 'grub-mkstandalone', pkg: 'grub-common', why: 'UEFI netboot and USB' },
  { cmd: 'objcopy', pkg: 'binutils', why: 'zos.efi' },
  { cmd: 'gpg', pkg: 'gpg', why: 'signed releases and netboot signatures (release --gpg-key, sign-netboot)' },
  { cmd: 'gpgv', pkg: 'gpgv', why: 'checking netboot signatures against the embedded key' },
  { cmd: 'sbsign', pkg: 'sbsigntool', why: 'Secure Boot signing (--sign-key); tests: sbverify, sbattach' },
  { cmd: 'nginx', pkg: 'nginx-light', why: 'tests: remote cache server' },
  { cmd: 'ccache', pkg: 'ccache', why: 'compiler cache (--ccache, on by default when present)' },
  { cmd: 'distcc', pkg: 'distcc', why: 'distributed compiles (--distcc)' },
  { cmd: 'distccd', pkg: 'distcc', why: 'tests: a distcc daemon on 127.0.0.1' },
  { cmd: 'chromium', pkg: 'chromium', why: 'tests: the build report in a headless browser' },
];

/** Files (firmware, the EFI stub) the build and the boot tests read, the Debian package of each, and why. */
export const HOST_FILES: ReadonlyArray<{ file: string; pkg: string; why: string }> = [
  { file: arch.efiStub, pkg: 'systemd-boot-efi', why: 'zos.efi (the kernel as an EFI program)' },
  { file: arch.qemuDirectBootFirmware, pkg: 'qemu-system-data', why: 'direct kernel boots (tests, run)' },
  { file: arch.uefi.code, pkg: arch.uefi.package, why: 'UEFI boots (tests, run --firmware uefi)' },
  { file: arch.uefi.vars, pkg: arch.uefi.package, why: 'UEFI boots (tests, run --firmware uefi)' },
  {
    file: arch.uefi.secureBootCode,
    pkg: arch.uefi.package,
    why: 'Secure Boot (tests, run --secure-boot)',
  },
];

const command: CommandModule<object, object> = {
  command: 'doctor',
  describe: 'check the host tools and files the build needs and print the apt-get line for what is missing',
  async handler() {
    const missing: Array<{ pkg: string }> = [];
    for (const t of HOST_TOOLS) {
      const path = await which(t.cmd);
      console.log(
        `${path ? 'ok     ' : 'MISSING'} ${t.cmd.padEnd(20)} ${(path ?? `package ${t.pkg}`).padEnd(36)} ${t.why}`,
      );
      if (!path) missing.push(t);
    }
    for (const f of HOST_FILES) {
      const present = await exists(f.file);
      console.log(`${present ? 'ok     ' : 'MISSING'} ${f.file.padEnd(57)} ${f.why}`);
      if (!present) missing.push(f);
    }
    if (missing.length === 0) {
      console.log('\nall host tools and files present');
      return;
    }
    const pkgs = [...new Set(missing.map((m) => m.pkg))].sort();
    console.log(
      `\nmissing ${missing.length} tool(s) or file(s); install them with:\n  apt-get install -y ${pkgs.join(' ')}\n(or run ci/install-host-deps, which installs everything the build and tests use)`,
    );
    process.exitCode = 1;
  },
};
export default command;
