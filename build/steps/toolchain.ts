import type { BuildContext } from '../recipe/types.js';

/**
 * The image's one C toolchain decision: static binaries against musl (`musl-gcc -static`), built
 * against the recipe's merged sysroot and nothing of the host. musl-gcc's spec already drops the
 * host's /usr/include and /usr/lib from the search paths; pkg-config is pointed at the sysroot only
 * (PKG_CONFIG_LIBDIR replaces the default dirs, PKG_CONFIG_PATH is emptied). Details: docs/userland.md.
 */
export interface Toolchain {
  /** The compiler command alone (meson and cmake take flags separately); `env.CC` adds -static. */
  cc: string;
  cflags: string;
  ldflags: string;
  /** Environment for configure scripts, make, meson and cmake. */
  env: Record<string, string>;
  /** The same settings as make variables (`CC=...`), for Makefiles that ignore the environment. */
  makeVars: string[];
}

export function muslToolchain(ctx: BuildContext, extra: { cflags?: string; ldflags?: string } = {}): Toolchain {
  const sysroot = ctx.sysroot;
  // Build paths never reach the outputs: sources are seen as ".", the sysroot as /sysroot.
  const cflags = [
    '-Os',
    '-pipe',
    `-ffile-prefix-map=${ctx.srcDir}/=`,
    `-ffile-prefix-map=${sysroot}=/sysroot`,
    `-I${sysroot}/usr/include`,
    extra.cflags ?? '',
  ]
    .filter(Boolean)
    .join(' ');
  const ldflags = ['--static', `-L${sysroot}/usr/lib`, extra.ldflags ?? ''].filter(Boolean).join(' ');
  const env: Record<string, string> = {
    // --static (gcc's other spelling of -static) in CC too: libtool removes every -static from the
    // link line of a program (to libtool it means "no uninstalled shared libtool libraries"), which
    // leaves dynamically linked binaries; it passes --static through.
    CC: 'musl-gcc --static',
    // No C++ for musl on Debian (no musl-g++): a C++ component fails loudly instead of using glibc's.
    CXX: 'false',
    AR: 'ar',
    RANLIB: 'ranlib',
    STRIP: 'strip',
    CFLAGS: cflags,
    CPPFLAGS: `-I${sysroot}/usr/include`,
    LDFLAGS: ldflags,
    PKG_CONFIG: 'pkg-config --static',
    PKG_CONFIG_LIBDIR: `${sysroot}/usr/lib/pkgconfig:${sysroot}/usr/share/pkgconfig`,
    PKG_CONFIG_SYSROOT_DIR: sysroot,
    PKG_CONFIG_PATH: '',
  };
  const makeVars = ['CC', 'AR', 'RANLIB', 'CFLAGS', 'LDFLAGS'].map((k) => `${k}=${env[k]!}`);
  return { cc: 'musl-gcc', cflags, ldflags, env, makeVars };
}

/** Host tools every C kind runs; their versions enter the fingerprint. */
export const C_HOST_TOOLS = ['musl-gcc', 'gcc', 'make', 'pkg-config', 'strip'];
