import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoCopy, zosBuild } from '../helpers/cli.js';

// The cmake kind on a real package: expat's CMake build (the expat recipe uses autotools on the same
// tarball), static, installed through the toolchain file and split into sysroot and image.
// A fresh UUID per run: the test reads the build's log, which a cache hit (warm from an earlier
// run) would not write.
const RECIPE = `// cmake-kind test run ${randomUUID()}
import { defineRecipe } from '../../build/recipe/define.js';
import { cmake } from '../../build/steps/cmake.js';
import expat from '../expat/recipe.js';
export default defineRecipe({
  ...expat, name: 'expat-cmake',
  build: cmake({
    subdir: 'expat',
    args: ['-DEXPAT_BUILD_DOCS=OFF', '-DEXPAT_BUILD_TESTS=OFF', '-DEXPAT_BUILD_EXAMPLES=OFF', '-DEXPAT_SHARED_LIBS=OFF'],
    keep: ['usr/bin/xmlwf'],
  }),
});
`;
const PROFILE = `import qemu from './qemu.js';
export default { ...qemu, name: 'cmake-demo', packages: [...qemu.packages, 'expat-cmake'] };
`;

describe('cmake build kind', { timeout: 30 * 60_000 }, () => {
  let repo: string;
  before(async () => {
    repo = await repoCopy();
    for (const [base, ext] of [
      ['', 'ts'],
      ['dist/', 'js'],
    ] as const) {
      await mkdir(join(repo, base, 'recipes/expat-cmake'), { recursive: true });
      await writeFile(join(repo, base, `recipes/expat-cmake/recipe.${ext}`), RECIPE);
      await writeFile(join(repo, base, `config/cmake-demo.${ext}`), PROFILE);
    }
  });
  after(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('builds expat with CMake: static xmlwf for the image, libexpat.a and expat.pc for the sysroot', async () => {
    const r = await zosBuild(['build', '--profile', 'cmake-demo', 'expat-cmake', '--verbose'], { repo });
    const log = await readFile(join(repo, 'out/logs/cmake-demo/recipe-expat-cmake.log'), 'utf8');
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}\n${log.slice(-3000)}`);
    assert.match(log, /-DCMAKE_TOOLCHAIN_FILE=/);
    assert.match(log, /Installing: .*\/stage\/usr\/lib\/libexpat\.a/);
    assert.match(log, /Installing: .*\/stage\/usr\/bin\/xmlwf/);
  });
});
