import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultCacheDir } from '../../build/paths.js';
import { loadRecipes } from '../../build/recipe/load.js';
import { startTimeOf } from '../../build/util/owner.js';
import { zosBuild } from '../helpers/cli.js';
import { serveBytes, TestHttpServer } from '../helpers/http-server.js';

// `zos-build fetch` end to end: a user mirror (Buildroot's primary site) served from 127.0.0.1 comes
// first, and --offline then works from the cache alone. The mirror serves the verified files of the
// checkout's cache under their upstream names.
describe('zos-build fetch with a mirror, then --offline', { timeout: 10 * 60_000 }, () => {
  let mirror: TestHttpServer;
  let cache: string;
  const files: string[] = [];

  before(async () => {
    const recipes = await loadRecipes();
    const routes: Record<string, ReturnType<typeof serveBytes>> = {};
    for (const r of recipes.values()) {
      for (const s of r.sources) {
        // Two recipes may pin the same file (linux and linux-headers): it is one download.
        if (files.includes(s.file)) continue;
        routes[`/${s.file}`] = serveBytes(await readFile(join(defaultCacheDir(), 'sources', s.sha256)));
        files.push(s.file);
      }
    }
    mirror = await TestHttpServer.start(routes);
    cache = await mkdtemp(join(tmpdir(), 'zos-fetch-cli-'));
  });
  after(async () => {
    await mirror?.close();
    await rm(cache, { recursive: true, force: true });
  });

  it('--offline with an empty cache fails naming every missing source', async () => {
    const r = await zosBuild(['fetch', '--all', '--offline', '--cache-dir', cache]);
    assert.equal(r.code, 1);
    for (const f of files)
      assert.match(
        r.stderr,
        new RegExp(`source ${f.replace(/[.+]/g, '\\$&')} \\(sha256 [0-9a-f]{64}\\) is not in the download cache`),
      );
  });

  it('downloads every source from the mirror first, verified, then --offline builds need nothing else', async () => {
    // A Debian archive that does not exist: only the mirror can serve.
    const r = await zosBuild([
      'fetch',
      '--all',
      '--cache-dir',
      cache,
      '--mirror',
      mirror.url,
      '--debian-mirror',
      'http://127.0.0.1:9/debian',
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const f of files) assert.equal(mirror.count(`/${f}`), 1, `${f} fetched once from the mirror`);
    const cached = (await readdir(join(cache, 'sources'))).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.equal(cached.length, files.length);
    const again = await zosBuild(['fetch', '--all', '--offline', '--cache-dir', cache]);
    assert.equal(again.code, 0, again.stderr);
  });

  it('removes partial downloads of killed fetches, never those of a live one', async () => {
    const sources = join(cache, 'sources');
    const dead = spawnSync('true').pid!; // a process that has exited
    const live = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const killed = `${'b'.repeat(64)}.tmp-${dead}.1-0badc0de`;
      const running = `${'b'.repeat(64)}.tmp-${live.pid}.${startTimeOf(live.pid!)}-0badc0de`;
      await writeFile(join(sources, killed), 'partial');
      await writeFile(join(sources, running), 'still downloading');
      const r = await zosBuild(['fetch', '--all', '--offline', '--cache-dir', cache]);
      assert.equal(r.code, 0, r.stderr);
      const left = await readdir(sources);
      assert.ok(!left.includes(killed), "the killed fetch's partial download was removed");
      assert.ok(left.includes(running), "a live fetch's download was kept");
    } finally {
      live.kill('SIGKILL');
    }
  });
});
