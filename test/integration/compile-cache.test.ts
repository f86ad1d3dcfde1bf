import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultCacheDir } from '../../build/paths.js';
import { plainLine } from '../../build/scheduler/progress.js';
import { seedSources } from '../../build/util/repo-copy.js';
import { sha256Tree } from '../../build/util/hash.js';
import { zosBuild } from '../helpers/cli.js';
import { NginxServer, nginxSkipReason } from '../helpers/nginx.js';

const skip = ['ccache', 'distcc', 'distccd'].some((t) => !['/usr/bin', '/usr/sbin'].some((d) => existsSync(join(d, t))))
  ? 'ccache/distcc not installed (see ci/install-host-deps)'
  : nginxSkipReason();

// ccache and distcc in front of a real C build (redis: ~140 compiles with musl-gcc), in a private
// cache so every build really compiles: the output must be the same bytes whatever compiled it, and
// the step's log must show where the objects came from.
describe('compiler cache and distributed compiles (redis)', { skip, timeout: 60 * 60_000 }, () => {
  let cache: string;
  let nginx: NginxServer;
  let reference: { hash: string; fingerprint: string; stdout: string; log: string };
  const temps: string[] = [];
  const tempDir = async (p: string) => {
    const d = await mkdtemp(join(tmpdir(), p));
    temps.push(d);
    return d;
  };

  /** Builds redis from scratch (its step output forgotten first); returns its bytes and ccache's counts. */
  const buildRedis = async (args: string[], env: Record<string, string> = {}) => {
    await rm(join(cache, 'steps'), { recursive: true, force: true });
    const out = await tempDir('zos-cc-out-');
    const r = await zosBuild(['build', 'redis', '--profile', 'qemu', '--out', out, '-j2', ...args], {
      env: { ZOS_CACHE_DIR: cache, ...env },
    });
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    const steps = (await readdir(join(cache, 'steps'))).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.equal(steps.length, 1, `one step output expected: ${steps.join(', ')}`);
    const log = await readFile(join(out, 'logs/qemu/recipe-redis.log'), 'utf8');
    const stats =
      /^# ccache: (\d+) hits \((\d+) direct, (\d+) preprocessed, (\d+) from remote storage\), (\d+) misses/m.exec(log);
    return {
      ...r,
      fingerprint: steps[0]!,
      hash: await sha256Tree(join(cache, 'steps', steps[0]!)),
      log,
      ccache: stats ? { hits: Number(stats[1]), remoteHits: Number(stats[4]), misses: Number(stats[5]) } : undefined,
    };
  };

  before(async () => {
    cache = await tempDir('zos-cc-cache-');
    await seedSources(join(defaultCacheDir(), 'sources'), join(cache, 'sources'));
    nginx = await NginxServer.start({ davPut: true });
    // Plain compiles, and a short heartbeat interval: this build runs without a terminal.
    const r = await buildRedis(['--no-ccache'], { ZOS_PROGRESS_INTERVAL: '2' });
    assert.equal(r.ccache, undefined, 'no ccache statistics without ccache');
    reference = r;
  });
  after(async () => {
    await nginx?.stop();
    for (const d of temps) await rm(d, { recursive: true, force: true });
  });

  it('prints a heartbeat with elapsed time and the last log line for a long step without a terminal', async () => {
    const beats = [...reference.stdout.matchAll(/^\[(\d+m)?\d+s\] recipe:redis building — (.+)$/gm)];
    assert.ok(beats.length >= 3, `expected heartbeat lines every 2 s:\n${reference.stdout}`);
    // What a heartbeat quotes is a line the step's log really has (compiler output, CC ...).
    const lines = reference.log.split('\n').map(plainLine);
    for (const b of beats) {
      const quoted = b[2]!.replace(/…$/, '');
      assert.ok(
        lines.some((l) => l.startsWith(quoted)),
        `heartbeat quotes a line that is not in the log: ${b[0]}`,
      );
    }
    const seconds = beats
      .map((b) => /^\[(?:(\d+)m)?(\d+)s\]/.exec(b[0])!)
      .map((m) => Number(m[1] ?? 0) * 60 + Number(m[2]));
    assert.ok(
      seconds.every((s, i) => i === 0 || s >= seconds[i - 1]!),
      `elapsed times go backwards: ${seconds.join(' ')}`,
    );
  });

  it('builds the same bytes with a cold ccache, which also fills ccache remote storage (nginx)', async () => {
    const r = await buildRedis(['--ccache-dir', join(cache, 'ccache-a'), '--ccache-remote', `${nginx.url}/ccache`]);
    assert.equal(r.fingerprint, reference.fingerprint, 'ccache options must not change the fingerprint');
    assert.equal(r.hash, reference.hash, 'output differs from a build without ccache');
    assert.ok(r.ccache && r.ccache.misses > 100, `a cold ccache misses: ${JSON.stringify(r.ccache)}`);
    const puts = (await nginx.accessLog()).filter((l) => /^PUT \/ccache\/.* 20[14]$/.test(l));
    assert.ok(puts.length > 100, `results were not uploaded to remote storage (${puts.length} PUTs)`);
  });

  it('hits a warm local ccache from another work dir and builds the same bytes', async () => {
    const r = await buildRedis(['--ccache-dir', join(cache, 'ccache-a')]);
    assert.equal(r.hash, reference.hash);
    assert.ok(r.ccache && r.ccache.hits > 100 && r.ccache.misses === 0, `warm ccache: ${JSON.stringify(r.ccache)}`);
  });

  it('hits remote storage with an empty local ccache (env ZOS_CCACHE_REMOTE)', async () => {
    const r = await buildRedis(['--ccache-dir', join(cache, 'ccache-b')], { ZOS_CCACHE_REMOTE: `${nginx.url}/ccache` });
    assert.equal(r.hash, reference.hash);
    assert.ok(
      r.ccache && r.ccache.remoteHits > 100 && r.ccache.misses === 0,
      `remote hits expected: ${JSON.stringify(r.ccache)}`,
    );
  });

  it('compiles on a distcc daemon on 127.0.0.1 and builds the same bytes', async () => {
    const port = await freePort();
    const logDir = await tempDir('zos-distccd-');
    // distccd drops root to the distcc user: its log must be writable by it.
    await chmod(logDir, 0o777);
    const logFile = join(logDir, 'distccd.log');
    const daemon = spawn(
      'distccd',
      [
        '--no-detach',
        '--daemon',
        '--allow',
        '127.0.0.1',
        '--listen',
        '127.0.0.1',
        '--port',
        String(port),
        '--jobs',
        '2',
        '--log-file',
        logFile,
        '--log-level',
        'info',
      ],
      { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    try {
      await waitForPort(port);
      const r = await buildRedis(['--ccache-dir', join(cache, 'ccache-c'), '--distcc', `127.0.0.1:${port}/2`]);
      assert.equal(r.fingerprint, reference.fingerprint, '--distcc must not change the fingerprint');
      assert.equal(r.hash, reference.hash, 'output differs from a local build');
      const jobs = (await readFile(logFile, 'utf8')).split('\n').filter((l) => /COMPILE_OK/.test(l));
      assert.ok(jobs.length > 100, `distccd compiled ${jobs.length} jobs`);
    } finally {
      daemon.kill('SIGTERM');
    }
  });

  it('says what to do when --ccache-remote is combined with --no-ccache', async () => {
    const r = await zosBuild(
      ['build', 'redis', '--profile', 'qemu', '--no-ccache', '--ccache-remote', 'http://127.0.0.1:1/x'],
      { env: { ZOS_CACHE_DIR: cache } },
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--ccache-remote needs ccache/);
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`distccd did not listen on 127.0.0.1:${port}`);
}
