import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildContext } from '../recipe/types.js';
import { verifyKconfig } from './kconfig.js';

export interface KernelOptions {
  base: 'tinyconfig' | 'defconfig';
  /** Repository-relative fragments, merged in order. */
  fragments: string[];
  /** Appended to the release string (`uname -r`), e.g. `-zos`. */
  localVersion: string;
  /** Build and install modules (profiles with `CONFIG_MODULES=y`). */
  modules: boolean;
}

/**
 * Builds a Linux kernel the kbuild way: base config + fragments through the kernel's own
 * merge_config.sh, a check that kconfig kept every requested option, then the boot image (bzImage on
 * x86) and (if enabled) modules. Outputs: boot/vmlinuz, export/{kernel.config,kernel.release},
 * rootfs/lib/modules. The UAPI headers are their own recipe (kernelHeaders below), so the userland
 * does not wait for the kernel compile.
 */
export async function kbuild(ctx: BuildContext, opts: KernelOptions): Promise<void> {
  const fragments = opts.fragments.map((f) => join(ctx.repoDir, f));
  const make = (args: string[], env: Record<string, string> = {}) =>
    ctx.run('make', [`-j${ctx.jobs}`, `ARCH=${ctx.arch.kernelArch}`, `LOCALVERSION=${opts.localVersion}`, ...args], {
      env: {
        // No build paths in the image: debug info and __FILE__ see the tree as ".".
        KCFLAGS: `-ffile-prefix-map=${ctx.srcDir}/=`,
        ...env,
      },
    });

  await make([opts.base]);
  await ctx.run('scripts/kconfig/merge_config.sh', ['-m', '.config', ...fragments]);
  await make(['olddefconfig']);
  await verifyKconfig('linux', fragments, join(ctx.srcDir, '.config'));

  await make([ctx.arch.kernelTarget, ...(opts.modules ? ['modules'] : [])]);
  await copyFile(join(ctx.srcDir, ctx.arch.kernelImage), join(ctx.out.boot, 'vmlinuz'));
  await copyFile(join(ctx.srcDir, '.config'), join(ctx.out.export, 'kernel.config'));
  const release = (await readFile(join(ctx.srcDir, 'include/config/kernel.release'), 'utf8')).trim();
  if (opts.modules) {
    await make(['modules_install', `INSTALL_MOD_PATH=${ctx.out.rootfs}`, 'INSTALL_MOD_STRIP=1', 'DEPMOD=/sbin/depmod']);
    // These point back into the build tree: a dangling build path in the image.
    for (const link of ['build', 'source'])
      await rm(join(ctx.out.rootfs, 'lib/modules', release, link), { force: true });
  }
  await writeFile(join(ctx.out.export, 'kernel.release'), `${release}\n`);
}

/**
 * The kernel's UAPI headers (linux/*.h, asm/*.h: what musl lacks) into the recipe's sysroot export,
 * for the userland to build against. Needs only the source tree, not a configured kernel.
 */
export async function kernelHeaders(ctx: BuildContext): Promise<void> {
  await ctx.run('make', [
    `-j${ctx.jobs}`,
    `ARCH=${ctx.arch.kernelArch}`,
    'headers_install',
    `INSTALL_HDR_PATH=${ctx.out.export}/sysroot/usr`,
  ]);
}
