import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoDir } from '../../build/paths.js';
import { zosBuild } from '../helpers/cli.js';
import { NginxServer, nginxSkipReason } from '../helpers/nginx.js';

type Outcomes = Record<string, string>;

// The shared step cache against a real nginx (WebDAV PUT) on 127.0.0.1: one machine's outputs
// become another's cache hits, and a damaged entry is never used.
describe('remote step cache (qemu profile, real nginx)', { skip: nginxSkipReason(), timeout: 30 * 60_000 }, () => {
  let nginx: NginxServer;
  const temps: string[] = [];
  const tempDir = async (p: string) => {
    const d = await mkdtemp(join(tmpdir(), p));
    temps.push(d);
    return d;
  };
  /** Builds the checkout's qemu profile into a private out dir; returns what each step did. */
  const build = async (extra: string[]) => {
    const out = await tempDir('zos-remote-out-');
    const r = await zosBuild(['build', '--profile', 'qemu', '--out', out, '--verbose', ...extra]);
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    const outcomes = (
      JSON.parse(await readFile(join(out, 'logs/qemu/last-build.json'), 'utf8')) as { outcomes: Outcomes }
    ).outcomes;
    return { ...r, outcomes, out };
  };

  before(async () => {
    nginx = await NginxServer.start({ davPut: true });
  });
  after(async () => {
    await nginx?.stop();
    for (const d of temps) await rm(d, { recursive: true, force: true });
  });

  it('uploads what a machine has, and a clean machine then builds nothing', async () => {
    // The checkout's cache is warm (ci/test built the profile): every step is shared as it is found.
    await build(['--remote-cache', nginx.url]);
    const stored = (await readdir(nginx.root)).filter((f) => f.endsWith('.json'));
    assert.ok(stored.length >= 5, `uploaded entries: ${stored.join(', ')}`);

    const clean = await build(['--remote-cache', nginx.url, '--cache-dir', await tempDir('zos-empty-cache-')]);
    const built = Object.entries(clean.outcomes).filter(([, o]) => o === 'built');
    assert.deepEqual(built, [], `a clean cache should build nothing: ${JSON.stringify(clean.outcomes)}`);
    assert.ok(Object.values(clean.outcomes).every((o) => o === 'downloaded'));
  });

  it('detects a truncated remote entry, warns, and builds that step locally', async () => {
    const r0 = await zosBuild(['graph', '--profile', 'qemu', '--fingerprints']);
    const fp = /^initramfs\s+([0-9a-f]{16})/m.exec(r0.stdout)![1]!;
    const tar = (await readdir(nginx.root)).find((f) => f.startsWith(fp) && f.endsWith('.tar'))!;
    assert.ok(tar, `initramfs entry ${fp} on the server`);
    await truncate(join(nginx.root, tar), 1000);
    const r = await build([
      '--remote-cache',
      nginx.url,
      '--cache-dir',
      await tempDir('zos-empty-cache-'),
      '--remote-cache-read-only',
    ]);
    assert.match(r.stderr, /remote cache: warning: .*truncated or replaced/);
    assert.equal(r.outcomes.initramfs, 'built');
    // The locally built initramfs is the same image the checkout built.
    const want = JSON.parse(await readFile(join(repoDir, 'out/qemu/manifest.json'), 'utf8')) as {
      artifacts: Array<{ file: string; sha256: string }>;
    };
    const got = JSON.parse(await readFile(join(r.out, 'qemu/manifest.json'), 'utf8')) as typeof want;
    const initrd = (m: typeof want) => m.artifacts.find((a) => a.file.startsWith('initramfs'))!.sha256;
    assert.equal(initrd(got), initrd(want));
  });

  it('never uploads in read-only mode', async () => {
    const empty = await NginxServer.start({ davPut: true });
    try {
      await build(['--remote-cache', empty.url, '--remote-cache-read-only']);
      assert.deepEqual(await readdir(empty.root), []);
    } finally {
      await empty.stop();
    }
  });
});
