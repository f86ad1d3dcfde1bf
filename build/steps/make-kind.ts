import { C_HOST_TOOLS } from './toolchain.js';
import { defineKind, type KindBuild, type KindOptions } from './kind.js';

export interface MakeKindOptions extends KindOptions {
  /**
   * A configure command that is not autoconf's, run first with the toolchain's environment, e.g.
   * ['./configure', '--static', '--prefix=/usr'] (zlib); `configure` arguments are appended.
   */
  configureCommand?: string[];
  /** Also pass CC, CFLAGS, LDFLAGS... as make variables (for Makefiles that set them themselves). */
  makeVars?: boolean;
}

/**
 * A plain Makefile package: the toolchain comes through the environment (or make variables with
 * `makeVars`), `make`, then `make DESTDIR=<stage> install`. Set prefix variables with `make`.
 */
export function makeKind(opts: MakeKindOptions = {}): KindBuild {
  return defineKind('make', C_HOST_TOOLS, opts, async ({ ctx, tc, stage, run }) => {
    if (opts.configureCommand) {
      const [cmd, ...args] = opts.configureCommand;
      await run(cmd!, [...args, ...(opts.configure ?? [])]);
    }
    const vars = [...(opts.makeVars ? tc.makeVars : []), ...(opts.make ?? [])];
    await run('make', [`-j${ctx.jobs}`, ...vars]);
    await run('make', [`DESTDIR=${stage}`, ...(opts.installTargets ?? ['install']), ...vars]);
  });
}
