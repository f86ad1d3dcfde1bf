import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultCacheDir, repoDir } from '../../build/paths.js';
import { seedSources } from '../../build/util/repo-copy.js';
import { zosBuild } from '../helpers/cli.js';

/** Starts `build redis` in the background and resolves once its compiler is running. */
async function startRedisBuild(cache: string, out: string): Promise<{ child: ChildProcess; exit: Promise<{ code: number | null; stderr: string }> }> {
  const log = join(out, 'logs/qemu/recipe-redis.log');
  await rm(log, { force: true }); // an earlier run's log must not look like this one's progress
  const child = spawn(process.execPath, [join(repoDir, 'dist/build/cli/main.js'), 'build', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out, '--verbose'], {
    cwd: repoDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; stderr: string }>((res) => child.on('close', (code) => res({ code, stderr })));
  for (let i = 0; i < 600; i++) {
    const text = await readFile(log, 'utf8').catch(() => '');
    if (/\bCC\b/.test(text)) return { child, exit };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`redis compile did not start within 120 s; log ${log}`);
}

const stepDirs = async (cache: string) => (await readdir(join(cache, 'steps')).catch(() => [] as string[])).sort();

// Interrupting a build at any point must leave nothing that a later build would trust, and two
// builds must not share a cache at once. Runs on a private cache seeded with the (verified) downloads.
describe('interrupted and concurrent builds', { timeout: 20 * 60_000 }, () => {
  let cache: string;
  let out: string;

  before(async () => {
    cache = await mkdtemp(join(tmpdir(), 'zos-int-cache-'));
    out = await mkdtemp(join(tmpdir(), 'zos-int-out-'));
    await seedSources(join(defaultCacheDir(), 'sources'), join(cache, 'sources'));
  });
  after(async () => {
    await rm(cache, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  });

  it('refuses a second build on the same cache with a clear message', async () => {
    const first = await startRedisBuild(cache, out);
    try {
      const second = await zosBuild(['build', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`cache ${cache} is in use by another zos-build \\(pid ${first.child.pid}\\)`));
    } finally {
      first.child.kill('SIGINT');
      await first.exit;
    }
  });

  it('Ctrl-C mid-compile leaves no step output, and the next build resumes', async () => {
    const before = await stepDirs(cache);
    const run = await startRedisBuild(cache, out);
    run.child.kill('SIGINT');
    const { code, stderr } = await run.exit;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /SIGINT: stopping/);
    assert.deepEqual((await stepDirs(cache)).filter((d) => !d.includes('.tmp-')), before, 'no finished output appeared');
    const again = await zosBuild(['build', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /built: .*recipe:redis/);
  });

  it('kill -9 mid-compile: stale lock and temp dirs are taken over, nothing half-built is used', async () => {
    await zosBuild(['clean', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out]);
    const run = await startRedisBuild(cache, out);
    run.child.kill('SIGKILL');
    await run.exit;
    const left = await stepDirs(cache);
    assert.ok(left.some((d) => d.includes('.tmp-')), `a killed build leaves its temp output: ${left.join(', ')}`);
    const again = await zosBuild(['build', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /built: .*recipe:redis/, 'the step was rebuilt, not taken from the killed run');
    assert.deepEqual((await stepDirs(cache)).filter((d) => d.includes('.tmp-')), [], 'temp outputs were swept');
  });
});
