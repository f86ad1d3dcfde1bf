import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { C_HOST_TOOLS } from './toolchain.js';
import { defineKind, type KindBuild, type KindOptions } from './kind.js';

/**
 * A CMake package, cross-built the CMake way: a toolchain file names musl-gcc and makes the merged
 * sysroot the only place find_library / find_path / find_package look (programs still come from the
 * host). `cmake -S . -B build -G Ninja -DBUILD_SHARED_LIBS=OFF ...args`, build, install to the stage.
 */
export function cmake(opts: KindOptions = {}): KindBuild {
  return defineKind('cmake', [...C_HOST_TOOLS, 'cmake', 'ninja'], opts, async ({ ctx, tc, stage, run }) => {
    const toolchain = join(ctx.workDir, 'toolchain.cmake');
    await writeFile(
      toolchain,
      [
        'set(CMAKE_SYSTEM_NAME Linux)',
        `set(CMAKE_SYSTEM_PROCESSOR ${ctx.arch.cpuFamily})`,
        `set(CMAKE_C_COMPILER ${tc.cc})`,
        `set(CMAKE_SYSROOT_LINK "")`,
        `set(CMAKE_FIND_ROOT_PATH ${ctx.sysroot})`,
        'set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)',
        'set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)',
        'set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)',
        'set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)',
        'set(CMAKE_FIND_LIBRARY_SUFFIXES .a)',
        '',
      ].join('\n'),
    );
    await run('cmake', [
      '-S',
      '.',
      '-B',
      'build',
      '-G',
      'Ninja',
      `-DCMAKE_TOOLCHAIN_FILE=${toolchain}`,
      '-DCMAKE_INSTALL_PREFIX=/usr',
      '-DCMAKE_INSTALL_LIBDIR=lib',
      '-DCMAKE_BUILD_TYPE=Release',
      '-DBUILD_SHARED_LIBS=OFF',
      ...(opts.args ?? []),
    ]);
    await run('ninja', ['-C', 'build', `-j${ctx.jobs}`, ...(opts.make ?? [])]);
    await run('ninja', ['-C', 'build', ...(opts.installTargets ?? ['install']), ...(opts.make ?? [])], {
      env: { DESTDIR: stage },
    });
  });
}
