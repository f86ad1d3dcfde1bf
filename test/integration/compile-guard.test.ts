import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoCopy, zosBuild } from '../helpers/cli.js';

// tsc writes JavaScript even when it reports errors unless told not to, and a failed compile leaves
// the previous good dist/ in place: neither may ever be run. Checked on a private copy of the repo.
describe('code that did not compile never runs', { timeout: 20 * 60_000 }, () => {
  let repo: string;
  before(async () => {
    repo = await repoCopy();
  });
  after(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('a type error in a recipe stops tsc, emits nothing, and dist/ refuses to run', async () => {
    const compiled = join(repo, 'dist/recipes/busybox/recipe.js');
    const before = await readFile(compiled, 'utf8');
    await appendFile(join(repo, 'recipes/busybox/recipe.ts'), "\nexport const broken: number = 'not a number';\n");

    const tsc = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-b'], {
      cwd: repo,
      encoding: 'utf8',
    });
    assert.notEqual(tsc.status, 0, 'tsc must fail');
    assert.match(tsc.stdout, /recipes\/busybox\/recipe\.ts.*TS2322/);
    assert.equal(await readFile(compiled, 'utf8'), before, 'nothing emitted for the broken file');

    // The stale dist/ from the earlier good compile is not silently run: not the CLI...
    const cli = await zosBuild(['list'], { repo });
    assert.equal(cli.code, 2, `the CLI ran anyway:\n${cli.stdout}\n${cli.stderr}`);
    assert.match(cli.stderr, /last TypeScript compile failed/);
    assert.doesNotMatch(cli.stdout, /busybox/);
    // ...nor a test file.
    // (NODE_TEST_CONTEXT would make the inner runner report to this one instead of exiting non-zero.)
    const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
    const test = spawnSync(process.execPath, ['--test', join(repo, 'dist/test/unit/recipe-validation.test.js')], {
      cwd: repo,
      env,
      encoding: 'utf8',
    });
    assert.notEqual(test.status, 0);
    assert.match(test.stdout + test.stderr, /last TypeScript compile failed/);
    // npm's entry points compile first and stop there.
    const npm = spawnSync('npm', ['run', '-s', 'zos-build', '--', 'list'], { cwd: repo, encoding: 'utf8' });
    assert.notEqual(npm.status, 0);
    assert.doesNotMatch(npm.stdout, /^busybox/m);
  });
});
