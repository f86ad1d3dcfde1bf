import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';
import { stripIfRelease } from '../../build/steps/strip.js';

// Debian's orig tarball is not byte-identical to download.redis.io's redis-7.0.15.tar.gz, so the
// pin is Debian's file; the upstream release is the same 7.0.15 code.
export default defineRecipe({
  name: 'redis',
  version: '7.0.15',
  cpe: { vendor: 'redis', product: 'redis' },
  license: 'BSD-3-Clause',
  licenseFiles: ['COPYING'],
  description: "Static redis-server (musl, libc malloc): the agent's command queue",
  homepage: 'https://redis.io/',
  sources: [
    {
      file: 'redis_7.0.15.orig.tar.gz',
      sha256: '4b1dc4ee6d622a09fff9c6777191209750fb5e5a725ef78ea012d6eef4c22982',
      locations: [
        'debian:pool/main/r/redis/redis_7.0.15.orig.tar.gz',
        'https://snapshot.debian.org/file/b5d51660215a5402d146b8ec045ae712a14783de',
      ],
    },
  ],
  hostTools: ['musl-gcc', 'gcc', 'make'],
  // Stripped in release images.
  usesVariant: true,
  async build(ctx) {
    // jemalloc does not build against musl here; libc malloc is plenty for a command queue.
    await ctx.run('make', [
      `-j${ctx.jobs}`,
      '-C',
      'src',
      'redis-server',
      'CC=musl-gcc',
      'MALLOC=libc',
      'BUILD_TLS=no',
      'USE_SYSTEMD=no',
      'LDFLAGS=-static',
      `CFLAGS=-ffile-prefix-map=${ctx.srcDir}/=`,
    ]);
    const bin = join(ctx.out.rootfs, 'usr/bin');
    await mkdir(bin, { recursive: true });
    await copyFile(join(ctx.srcDir, 'src/redis-server'), join(bin, 'redis-server'));
    await stripIfRelease(ctx, [join(bin, 'redis-server')]);
  },
});
