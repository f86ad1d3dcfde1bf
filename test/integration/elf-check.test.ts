import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoCopy, zosBuild } from '../helpers/cli.js';

// A recipe that escapes the toolchain (host gcc, dynamic glibc) must not produce an image that
// fails at run time: the initramfs step refuses it, naming the file and what it needs.
const LEAK_RECIPE = `import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';
export default defineRecipe({
  name: 'leak', version: '1.0.0', license: 'MIT', description: 'a dynamically linked host binary',
  hostTools: ['gcc'],
  async build(ctx) {
    await writeFile(join(ctx.workDir, 'leak.c'), 'int main(void) { return 0; }\\n');
    await mkdir(join(ctx.out.rootfs, 'usr/bin'), { recursive: true });
    await ctx.run('gcc', ['-o', join(ctx.out.rootfs, 'usr/bin/leak'), join(ctx.workDir, 'leak.c')]);
  },
});
`;
// The qemu profile's base userland (static musl only: no Debian glibc-runtime that a host binary could
// happen to find) plus the leaking recipe, no boot artifacts: the failure is in the initramfs step.
const LEAK_PROFILE = `import qemu from './qemu.js';
export default { ...qemu, name: 'leak', packages: ['busybox', 'redis', 'core0', 'leak'], artifacts: [] };
`;

describe('ELF check in a real build', { timeout: 60 * 60_000 }, () => {
  let repo: string;
  before(async () => {
    repo = await repoCopy();
    // Source and compiled module side by side, as `tsc -b` would leave them.
    for (const base of ['', 'dist/']) {
      await mkdir(join(repo, base, 'recipes/leak'), { recursive: true });
      await writeFile(join(repo, base, `recipes/leak/recipe.${base ? 'js' : 'ts'}`), LEAK_RECIPE);
      await writeFile(join(repo, base, `config/leak.${base ? 'js' : 'ts'}`), LEAK_PROFILE);
    }
  });
  after(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('fails naming the binary and the library and interpreter it needs', async () => {
    const r = await zosBuild(['build', '--profile', 'leak'], { repo });
    const all = `${r.stdout}\n${r.stderr}`;
    assert.notEqual(r.code, 0, `the build should fail:\n${all}`);
    assert.match(all, /step initramfs failed/);
    assert.match(all, /\/usr\/bin\/leak needs the library libc\.so\.6, which is not in the image/);
    assert.match(all, /\/usr\/bin\/leak needs the interpreter \/lib64\/ld-linux-x86-64\.so\.2/);
  });
});
