import { join } from 'node:path';
import { defineKind, type KindBuild, type KindOptions } from './kind.js';

export interface GoBuildOptions extends Omit<KindOptions, 'configure' | 'args' | 'make' | 'installTargets'> {
  /** Main packages and where their binaries go in the image, e.g. { './cmd/core0': 'sbin/core0' }. */
  binaries: Record<string, string>;
  /** Repository-relative module directory (e.g. 'agent'); default the recipe's source tree. */
  repoDir?: string;
  /** `-X` assignments of the project's version, e.g. 'main.version'. */
  versionVar?: string;
}

/**
 * A static Go program: `CGO_ENABLED=0 go build -trimpath` for the profile's GOARCH, offline
 * (GOPROXY=off: dependencies are vendored or come from the Debian packaged module cache).
 * Release images get `-s -w`.
 */
export function goBuild(opts: GoBuildOptions): KindBuild {
  return defineKind('go', ['go'], opts, async ({ ctx, stage, run }) => {
    const release = ctx.profile.variant === 'release';
    const ldflags = [
      ...(release ? ['-s', '-w'] : []),
      '-buildid=',
      ...(opts.versionVar ? [`-X ${opts.versionVar}=${ctx.version}`] : []),
    ];
    for (const [pkg, out] of Object.entries(opts.binaries).sort()) {
      await run(
        'go',
        ['build', '-trimpath', '-buildvcs=false', '-ldflags', ldflags.join(' '), '-o', join(stage, out), pkg],
        {
          cwd: opts.repoDir ? join(ctx.repoDir, opts.repoDir) : ctx.srcDir,
          env: {
            CGO_ENABLED: '0',
            GOOS: 'linux',
            GOARCH: ctx.arch.goarch,
            GOFLAGS: '-mod=mod',
            GO111MODULE: 'on',
            GOPROXY: 'off',
          },
        },
      );
    }
  });
}
