import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';

export default defineRecipe({
  name: 'core0',
  version: '0.1.0',
  license: 'Apache-2.0',
  licenseFiles: ['LICENSE'],
  description: 'The node agent (PID 1): brings the machine up, runs redis, executes commands from its queue',
  // Built from this repository's agent/ folder: no download.
  stampsProjectVersion: true,
  hostTools: ['go'],
  // Release strips symbols (-s -w).
  usesVariant: true,
  settings: () => ({ files: ['agent'] }),
  async build(ctx) {
    const release = ctx.profile.variant === 'release';
    const ldflags = [...(release ? ['-s', '-w'] : []), '-buildid=', `-X main.version=${ctx.version}`].join(' ');
    await ctx.run('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags', ldflags, '-o', join(ctx.out.rootfs, 'sbin/core0'), './cmd/core0'], {
      cwd: join(ctx.repoDir, 'agent'),
      env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOOS: 'linux', GOARCH: 'amd64', GO111MODULE: 'on', GOPROXY: 'off' },
    });
  },
});
