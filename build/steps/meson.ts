import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { C_HOST_TOOLS } from './toolchain.js';
import { defineKind, type KindBuild, type KindOptions } from './kind.js';

const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const list = (s: string): string => `[${s.split(' ').filter(Boolean).map(q).join(', ')}]`;

/**
 * A Meson package, always as a cross build (even for the build machine's architecture) so meson
 * takes its compiler, flags and pkg-config dirs from the cross file only: `meson setup build
 * --cross-file <file> --prefix=/usr -Ddefault_library=static --prefer-static ...args`, ninja, install.
 */
export function meson(opts: KindOptions = {}): KindBuild {
  return defineKind('meson', [...C_HOST_TOOLS, 'meson', 'ninja'], opts, async ({ ctx, tc, stage, run }) => {
    const cross = join(ctx.workDir, 'cross.ini');
    await writeFile(
      cross,
      [
        '[binaries]',
        `c = ${q(tc.cc)}`,
        "ar = 'ar'",
        "strip = 'strip'",
        "pkg-config = 'pkg-config'",
        '[built-in options]',
        `c_args = ${list(tc.cflags)}`,
        `c_link_args = ${list(tc.ldflags)}`,
        '[properties]',
        `sys_root = ${q(ctx.sysroot)}`,
        `pkg_config_libdir = ${q(tc.env.PKG_CONFIG_LIBDIR!)}`,
        '[host_machine]',
        "system = 'linux'",
        `cpu_family = ${q(ctx.arch.cpuFamily)}`,
        `cpu = ${q(ctx.arch.cpuFamily)}`,
        "endian = 'little'",
        '',
      ].join('\n'),
    );
    await run('meson', [
      'setup',
      'build',
      '--cross-file',
      cross,
      '--prefix=/usr',
      '--libdir=lib',
      '--buildtype=release',
      '-Ddefault_library=static',
      '--prefer-static',
      '--wrap-mode=nodownload',
      ...(opts.args ?? []),
    ]);
    await run('ninja', ['-C', 'build', `-j${ctx.jobs}`, ...(opts.make ?? [])]);
    await run('meson', ['install', '-C', 'build', '--no-rebuild', '--destdir', stage, ...(opts.make ?? [])]);
  });
}
