/**
 * Every fact that depends on the target CPU architecture, in one table. Code that needs one of these
 * (the kernel build, the Go build, the C toolchain, EFI file names, QEMU) reads it from here, so
 * adding an architecture is one new entry. A profile picks its entry with `arch` (default x86_64).
 */
export interface ArchFacts {
  /** The profile's `arch` value and the name in `uname -m`. */
  name: string;
  /** `make ARCH=` of the kernel. */
  kernelArch: string;
  /** The kernel make target that builds the boot image, and where it lands in the tree. */
  kernelTarget: string;
  kernelImage: string;
  /** GOARCH of static Go builds. */
  goarch: string;
  /** GNU triplets: the image's userland (musl) and the build machine's (glibc). */
  muslTriplet: string;
  gnuTriplet: string;
  /** Meson's cpu_family / cpu and CMake's CMAKE_SYSTEM_PROCESSOR. */
  cpuFamily: string;
  /** ELF e_machine of the image's binaries (EM_X86_64 = 62). */
  elfMachine: number;
  /** Where ELF binaries look for their dynamic loader's search path file (musl: /etc/ld-musl-<arch>.path). */
  muslLoader: string;
  /** The removable-media EFI program path and GRUB's platform for it. */
  efiBootFile: string;
  grubEfiTarget: string;
  /** systemd's EFI stub of this architecture, the base of the UKI (zos.efi). */
  efiStub: string;
  /** QEMU system emulator for this architecture, and the Debian package that has it. */
  qemu: string;
  qemuPackage: string;
  /**
   * QEMU firmware for a BIOS direct kernel boot (-kernel/-initrd): qboot, which only sets up the machine
   * (memory map, ACPI and SMBIOS tables from QEMU) and jumps to the kernel. SeaBIOS's POST before it
   * costs about 0.4 s of every boot under TCG (bench/boot.js --seabios).
   */
  qemuDirectBootFirmware: string;
  /**
   * QEMU's UEFI firmware (Debian's package): the code, an empty variable store, the Secure Boot build
   * (needs q35 with SMM and a secure flash, so a guest cannot rewrite db) and Debian's test variable
   * store with its "snakeoil" certificate in PK, KEK and db, Secure Boot on.
   */
  uefi: { code: string; vars: string; secureBootCode: string; snakeoilVars: string; package: string };
  /** Debian's architecture name (binary packages, `dpkg --print-architecture`). */
  debianArch: string;
}

export const ARCHES: Readonly<Record<string, ArchFacts>> = {
  x86_64: {
    name: 'x86_64',
    kernelArch: 'x86_64',
    kernelTarget: 'bzImage',
    kernelImage: 'arch/x86/boot/bzImage',
    goarch: 'amd64',
    muslTriplet: 'x86_64-linux-musl',
    gnuTriplet: 'x86_64-linux-gnu',
    cpuFamily: 'x86_64',
    elfMachine: 62,
    muslLoader: '/lib/ld-musl-x86_64.so.1',
    efiBootFile: 'BOOTX64.EFI',
    grubEfiTarget: 'x86_64-efi',
    efiStub: '/usr/lib/systemd/boot/efi/linuxx64.efi.stub',
    qemu: 'qemu-system-x86_64',
    qemuPackage: 'qemu-system-x86',
    qemuDirectBootFirmware: '/usr/share/qemu/qboot.rom',
    uefi: {
      code: '/usr/share/OVMF/OVMF_CODE_4M.fd',
      vars: '/usr/share/OVMF/OVMF_VARS_4M.fd',
      secureBootCode: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd',
      snakeoilVars: '/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd',
      package: 'ovmf',
    },
    debianArch: 'amd64',
  },
};

export const DEFAULT_ARCH = 'x86_64';

/** The facts of `name` (a profile's `arch`); throws naming the known ones. */
export function archFacts(name: string = DEFAULT_ARCH): ArchFacts {
  const facts = ARCHES[name];
  if (!facts) throw new Error(`unknown architecture "${name}" (known: ${Object.keys(ARCHES).join(', ')})`);
  return facts;
}
