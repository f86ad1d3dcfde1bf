import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BuildContext } from '../../build/recipe/types.js';
import { debInstall } from '../../build/steps/deb.js';
import { stripIfRelease } from '../../build/steps/strip.js';

const run = promisify(execFile);

/**
 * Regression: a Debian package's absolute symlink `lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...`
 * kept in a rootfs made the release strip rewrite the build host's own loader (every process that
 * started during the rewrite crashed). Here the "host" file is a copy of a real ELF outside the step.
 */
describe('release strip touches only regular files inside the step output', () => {
  let base: string;
  let victim: string;
  const ctxIn = (dir: string): BuildContext =>
    ({
      recipe: { name: 'debtest' },
      profile: { variant: 'release' },
      srcDir: join(dir, 'src'),
      workDir: join(dir, 'work'),
      sysroot: join(dir, 'sysroot'),
      out: { rootfs: join(dir, 'out/rootfs'), export: join(dir, 'out/export'), boot: join(dir, 'out/boot') },
      run: async (cmd: string, args: readonly string[]) => {
        await run(cmd, [...args]);
      },
    }) as unknown as BuildContext;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'zos-strip-'));
    // An unstripped ELF: stripping it would change its bytes.
    victim = join(base, 'host/ld.so');
    await mkdir(join(base, 'host'), { recursive: true });
    const src = join(base, 'host/m.c');
    await writeFile(src, 'int main(void) { return 0; }\n');
    await run('gcc', ['-g', '-o', victim, src]);
  });
  after(() => rm(base, { recursive: true, force: true }));

  it('debInstall keeps an absolute symlink as it is and leaves its target alone', async () => {
    const dir = join(base, 'deb');
    await mkdir(join(dir, 'src/deb/lib64'), { recursive: true });
    await mkdir(join(dir, 'src/deb/usr/bin'), { recursive: true });
    await symlink(victim, join(dir, 'src/deb/lib64/ld.so'));
    await copyFile(victim, join(dir, 'src/deb/usr/bin/tool'));
    for (const d of ['work', 'sysroot', 'out/rootfs', 'out/export', 'out/boot']) {
      await mkdir(join(dir, d), { recursive: true });
    }
    const before = await readFile(victim);
    const mtime = (await stat(victim)).mtimeMs;
    await debInstall({ keep: ['lib64/ld.so', 'usr/bin/tool'] })(ctxIn(dir));
    assert.deepEqual(await readFile(victim), before, 'the file outside the step was rewritten');
    assert.equal((await stat(victim)).mtimeMs, mtime);
    // The package's own regular file was stripped.
    const tool = await stat(join(dir, 'out/rootfs/usr/bin/tool'));
    assert.ok(tool.size < before.length, `tool was not stripped (${tool.size} >= ${before.length})`);
  });

  it('stripIfRelease refuses a path that is a symlink or lies outside the rootfs', async () => {
    const dir = join(base, 'direct');
    await mkdir(join(dir, 'out/rootfs'), { recursive: true });
    await symlink(victim, join(dir, 'out/rootfs/link'));
    const ctx = ctxIn(dir);
    await assert.rejects(stripIfRelease(ctx, [join(dir, 'out/rootfs/link')]), /will not strip .*symlink/);
    await assert.rejects(stripIfRelease(ctx, [victim]), /will not strip/);
  });
});
