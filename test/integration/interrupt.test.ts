import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultCacheDir, repoDir } from '../../build/paths.js';
import { seedSources } from '../../build/util/repo-copy.js';
import { zosBuild } from '../helpers/cli.js';

/** Starts `build redis` in the background and resolves once its compiler is running. */
async function startRedisBuild(
  cache: string,
  out: string,
): Promise<{ child: ChildProcess; exit: Promise<{ code: number | null; stderr: string }> }> {
  const log = join(out, 'logs/qemu/recipe-redis.log');
  await rm(log, { force: true }); // an earlier run's log must not look like this one's progress
  const child = spawn(
    process.execPath,
    [
      join(repoDir, 'dist/build/cli/main.js'),
      'build',
      'redis',
      '--profile',
      'qemu',
      '--cache-dir',
      cache,
      '--out',
      out,
      '--verbose',
    ],
    {
      cwd: repoDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; stderr: string }>((res) =>
    child.on('close', (code) => res({ code, stderr })),
  );
  for (let i = 0; i < 600; i++) {
    const text = await readFile(log, 'utf8').catch(() => '');
    if (/\bCC\b/.test(text)) return { child, exit };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`redis compile did not start within 120 s; log ${log}`);
}

/** Processes (pid and command) whose working directory is inside `dir`: a step's compilers. */
async function processesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd.startsWith(`${dir}/`))
      found.push(`${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')}`);
  }
  return found;
}

const stepDirs = async (cache: string) => (await readdir(join(cache, 'steps')).catch(() => [] as string[])).sort();

// Interrupting a build at any point must leave nothing that a later build would trust (nor anything
// running), and builds sharing a cache must never race on one step output. Runs on a private cache seeded with the (verified) downloads.
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

  it('builds share a cache: the same step waits and is reused, another profile builds meanwhile', async () => {
    const first = await startRedisBuild(cache, out);
    const out2 = await mkdtemp(join(tmpdir(), 'zos-int-out2-'));
    const out3 = await mkdtemp(join(tmpdir(), 'zos-int-out3-'));
    try {
      // Same step (redis) from a second build: waits for the first, then takes its output.
      const second = zosBuild(['build', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out2]);
      // Another profile on the same cache: its core0 (other agent settings, so another step) builds
      // while the qemu build's redis is still compiling.
      const third = await zosBuild(['build', 'core0', '--profile', 'generic', '--cache-dir', cache, '--out', out3]);
      assert.equal(third.code, 0, third.stderr);
      assert.match(third.stdout, /built: .*recipe:core0/);
      assert.equal(first.child.exitCode, null, 'core0 was built while the first build was still running');
      const [a, b] = [await first.exit, await second];
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const outcomes = JSON.parse(await readFile(join(out2, 'logs/qemu/last-build.json'), 'utf8')) as {
        outcomes: Record<string, string>;
      };
      assert.equal(outcomes.outcomes['recipe:redis'], 'cached', "the second build reused the first one's redis");
    } finally {
      first.child.kill('SIGINT');
      await rm(out2, { recursive: true, force: true });
      await rm(out3, { recursive: true, force: true });
    }
  });

  it('Ctrl-C mid-compile leaves no step output and nothing running, and the next build resumes', async () => {
    await zosBuild(['clean', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out]);
    const before = await stepDirs(cache);
    const run = await startRedisBuild(cache, out);
    run.child.kill('SIGINT');
    const { code, stderr } = await run.exit;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /SIGINT: stopping/);
    assert.deepEqual(await processesIn(cache), [], 'the compiler and make were stopped with the build');
    assert.deepEqual(
      (await stepDirs(cache)).filter((d) => !d.includes('.tmp-')),
      before,
      'no finished output appeared',
    );
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
    assert.ok(
      left.some((d) => d.includes('.tmp-')),
      `a killed build leaves its temp output: ${left.join(', ')}`,
    );
    // Its attempt dir is its own (a later attempt never writes where orphans of this one may still write).
    const killedAttempts = (await readdir(join(cache, 'work'))).filter((d) => d.startsWith('recipe-redis-'));
    assert.ok(
      killedAttempts.length > 0 && killedAttempts.every((d) => d.includes(`.attempt-${run.child.pid}.`)),
      killedAttempts.join(', '),
    );
    try {
      const again = await zosBuild(['build', 'redis', '--profile', 'qemu', '--cache-dir', cache, '--out', out]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /built: .*recipe:redis/, 'the step was rebuilt, not taken from the killed run');
      assert.deepEqual(
        (await stepDirs(cache)).filter((d) => d.includes('.tmp-')),
        [],
        'temp outputs were swept',
      );
      const work = await readdir(join(cache, 'work'));
      assert.deepEqual(
        work.filter((d) => killedAttempts.includes(d)),
        [],
        'the killed attempt dir was swept, not reused',
      );
    } finally {
      // Orphans of the killed build (kill -9 cannot take its children with it).
      for (const p of await processesIn(cache)) spawnSync('kill', ['-9', p.split(' ')[0]!]);
    }
  });

  it('SIGTERM to verify-repro (the trap of ci/test after failed tests) stops its clean rebuild too', async () => {
    const work = await mkdtemp(join(tmpdir(), 'zos-int-repro-'));
    const against = join(work, 'against');
    await mkdir(against);
    await writeFile(join(against, 'manifest.json'), '{}\n');
    const args = ['verify-repro', '--profile', 'qemu', '--against', against, '--work-dir', join(work, 'w')];
    const child = spawn(process.execPath, [join(repoDir, 'dist/build/cli/main.js'), ...args, '--cache-dir', cache], {
      cwd: repoDir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((res) => child.on('close', res));
    try {
      // Build B runs in the work dir's checkout: wait until it does, then stop verify-repro alone.
      let running: string[] = [];
      for (let i = 0; i < 600 && !running.some((p) => p.includes(' build --profile qemu')); i++) {
        await new Promise((r) => setTimeout(r, 200));
        running = await processesIn(work);
      }
      assert.ok(running.length > 0, `build B did not start: ${stderr}`);
      child.kill('SIGTERM');
      // Bounded: without the forwarding, verify-repro would wait for a whole clean build.
      const code = await Promise.race([exit, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000))]);
      assert.ok(code !== 0 && code !== 'still running', `verify-repro after SIGTERM: ${code}\n${stderr}`);
      let left = await processesIn(work);
      for (let i = 0; i < 150 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 200));
        left = await processesIn(work);
      }
      assert.deepEqual(left, [], 'the clean rebuild kept running after verify-repro was stopped');
    } finally {
      child.kill('SIGKILL');
      for (const p of await processesIn(work)) spawnSync('kill', ['-9', p.split(' ')[0]!]);
      await rm(work, { recursive: true, force: true });
    }
  });
});
