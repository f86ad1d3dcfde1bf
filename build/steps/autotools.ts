import { C_HOST_TOOLS } from './toolchain.js';
import { defineKind, buildTriplet, type KindBuild, type KindOptions } from './kind.js';

export interface AutotoolsOptions extends KindOptions {
  /** Regenerate configure first (`autoreconf -fi`), for trees that ship without it or patch configure.ac. */
  autoreconf?: boolean;
}

/**
 * A GNU autoconf package: `./configure --prefix=/usr --host=<musl triplet> --enable-static
 * --disable-shared ...configure`, `make`, `make install DESTDIR=<stage>`.
 */
export function autotools(opts: AutotoolsOptions = {}): KindBuild {
  return defineKind(
    'autotools',
    [...C_HOST_TOOLS, ...(opts.autoreconf ? ['autoreconf'] : [])],
    opts,
    async ({ ctx, stage, run }) => {
      if (opts.autoreconf) await run('autoreconf', ['-fi']);
      await run('./configure', [
        '--prefix=/usr',
        '--sysconfdir=/etc',
        '--localstatedir=/var',
        `--host=${ctx.arch.muslTriplet}`,
        `--build=${buildTriplet()}`,
        '--enable-static',
        '--disable-shared',
        ...(opts.configure ?? []),
      ]);
      await run('make', [`-j${ctx.jobs}`, ...(opts.make ?? [])]);
      await run('make', [`DESTDIR=${stage}`, ...(opts.installTargets ?? ['install']), ...(opts.make ?? [])]);
    },
  );
}
