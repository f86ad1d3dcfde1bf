import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { HOST_FILES, HOST_TOOLS } from '../../build/cli/commands/doctor.js';
import { repoDir } from '../../build/paths.js';
import { imageTmpDir } from '../helpers/image-tools.js';

const execFileP = promisify(execFile);
const cli = join(repoDir, 'dist/build/cli/main.js');

let dir = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => {
  ({ dir, cleanup } = await imageTmpDir('doctor'));
});
after(() => cleanup());

test('doctor names the Debian package of every missing tool, and fails', async () => {
  // A PATH with nothing but node on it: every tool is missing.
  await symlink(process.execPath, join(dir, 'node'));
  const run = await execFileP(process.execPath, [cli, 'doctor'], { env: { PATH: dir } }).then(
    () => assert.fail('doctor passed with no tools on PATH'),
    (err: { code: number; stdout: string }) => err,
  );
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^MISSING make\s+package make\s/m);
  const line = run.stdout.split('\n').find((l) => l.trim().startsWith('apt-get install -y'));
  assert.ok(line, run.stdout);
  for (const pkg of ['make', 'musl-tools', 'golang-go', 'qemu-system-x86', 'zstd']) {
    assert.ok(line.split(/\s+/).includes(pkg), `${pkg} missing from: ${line}`);
  }
});

test('every package doctor names is one that ci/install-host-deps installs on this machine', async () => {
  // The test suite runs after ci/install-host-deps: a package doctor names that is not installed
  // here is a wrong name (or one install-host-deps lacks), and doctor would send users astray.
  const pkgs = [...new Set([...HOST_TOOLS, ...HOST_FILES].map((t) => t.pkg))];
  const { stdout } = await execFileP('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...pkgs]).catch(
    (err: { stdout: string }) => err,
  );
  const installed = new Set(
    stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  assert.deepEqual(
    pkgs.filter((p) => !installed.has(p)),
    [],
  );
});
