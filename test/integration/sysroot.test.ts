import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoCopy, zosBuild } from '../helpers/cli.js';

// A recipe builds against the sysroot of its dependencies and nothing of the host: a program that
// includes <zlib.h> and links `pkg-config --libs zlib` builds (statically, and runs) when the recipe
// depends on zlib, and fails to find zlib.h when it does not, although the host has zlib's headers.
// Each run writes a new recipe (a comment with a fresh UUID): the test reads the build's log, and a
// cache warm from an earlier run would turn the build into a cache hit that writes none.
const recipe = (name: string, deps: string[]) => `// sysroot test run ${randomUUID()}
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';
import { muslToolchain } from '../../build/steps/toolchain.js';
export default defineRecipe({
  name: '${name}', version: '1.0.0', license: 'MIT', description: 'links zlib from the sysroot',
  dependencies: ${JSON.stringify(deps)}, hostTools: ['musl-gcc', 'pkg-config'],
  async build(ctx) {
    const tc = muslToolchain(ctx);
    await writeFile(join(ctx.srcDir, 'z.c'),
      '#include <zlib.h>\\n#include <stdio.h>\\nint main(void) { printf("linked zlib %s\\\\n", zlibVersion()); return 0; }\\n');
    await mkdir(join(ctx.out.rootfs, 'usr/bin'), { recursive: true });
    const bin = join(ctx.out.rootfs, 'usr/bin/${name}');
    await ctx.run('sh', ['-c', tc.env.CC + ' $CFLAGS -o ' + bin + ' z.c $LDFLAGS $($PKG_CONFIG --libs zlib)'], { env: tc.env });
    await ctx.run(bin, []);
    await ctx.run('readelf', ['-l', bin]);
  },
});
`;
const PROFILE = `import qemu from './qemu.js';
export default { ...qemu, name: 'sysroot-demo', packages: [...qemu.packages, 'zdemo', 'zleak'] };
`;

describe('userland sysroot', { timeout: 30 * 60_000 }, () => {
  let repo: string;
  before(async () => {
    repo = await repoCopy();
    for (const [name, deps] of [
      ['zdemo', ['zlib']],
      ['zleak', []],
    ] as const) {
      for (const [base, ext] of [
        ['', 'ts'],
        ['dist/', 'js'],
      ] as const) {
        await mkdir(join(repo, base, 'recipes', name), { recursive: true });
        await writeFile(join(repo, base, `recipes/${name}/recipe.${ext}`), recipe(name, [...deps]));
      }
    }
    await writeFile(join(repo, 'config/sysroot-demo.ts'), PROFILE);
    await writeFile(join(repo, 'dist/config/sysroot-demo.js'), PROFILE);
  });
  after(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('builds and runs a static program against a dependency found through pkg-config in the sysroot', async () => {
    const r = await zosBuild(['build', '--profile', 'sysroot-demo', 'zdemo'], { repo });
    const log = await readFile(join(repo, 'out/logs/sysroot-demo/recipe-zdemo.log'), 'utf8');
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}\n${log}`);
    assert.match(log, /linked zlib 1\.2\.13/);
    // Static: no program interpreter in its program headers.
    assert.match(log, /Program Headers:/);
    assert.doesNotMatch(log, /Requesting program interpreter/);
  });

  it("does not see the host's headers when the recipe does not depend on zlib", async () => {
    const r = await zosBuild(['build', '--profile', 'sysroot-demo', 'zleak'], { repo });
    assert.notEqual(r.code, 0);
    assert.match(`${r.stdout}\n${r.stderr}`, /zlib\.h: No such file or directory/);
  });
});
