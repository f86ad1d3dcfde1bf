import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoCopy, zosBuild } from '../helpers/cli.js';

// Incremental builds, checked on a private copy of the repository that shares the step cache with
// the checkout: the first build there reuses what ci/test already built, edits stay private.
describe('incremental rebuilds (qemu profile)', { timeout: 60 * 60_000 }, () => {
  let repo: string;
  const outcomes = async (): Promise<Record<string, string>> =>
    (
      JSON.parse(await readFile(join(repo, 'out/logs/qemu/last-build.json'), 'utf8')) as {
        outcomes: Record<string, string>;
      }
    ).outcomes;
  const build = async () => {
    const r = await zosBuild(['build', '--profile', 'qemu', '--verbose'], { repo });
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const built = (o: Record<string, string>) =>
    Object.keys(o)
      .filter((k) => o[k] === 'built')
      .sort();

  before(async () => {
    repo = await repoCopy();
    await build();
  });
  after(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('does nothing when nothing changed', async (t) => {
    const r = await build();
    assert.match(r.stdout, /is up to date/);
    t.diagnostic(`no-op build: ${r.ms} ms including Node start`);
  });

  it('rebuilds only the initramfs and what consumes it after an overlay edit', async () => {
    // A unique edit: the shared cache must not already hold its initramfs from an earlier run.
    await appendFile(join(repo, 'rootfs-overlay/init'), `\n# edited by the rebuild test ${randomUUID()}\n`);
    await build();
    const o = await outcomes();
    assert.ok(built(o).includes('initramfs'), `initramfs was not rebuilt: ${JSON.stringify(o)}`);
    for (const [id, outcome] of Object.entries(o)) {
      // Each recipe's archive in the image is cached with it: only the overlay's is packed again.
      if (id.startsWith('recipe:') || id.startsWith('layer:'))
        assert.equal(outcome, 'cached', `${id} should not rebuild for an overlay edit`);
    }
    // The network stick only names the initramfs in its scripts: a new one does not rewrite it.
    assert.equal(o['artifact:usb-netboot'], 'cached', 'usb-netboot.img does not hold the initramfs');
    const again = await build();
    assert.match(again.stdout, /is up to date/);
  });

  it('rebuilds agent, initramfs and artifacts, never the kernel, for an agent edit or a new version', async () => {
    const check = async (what: string) => {
      const o = await outcomes();
      const rebuilt = built(o);
      const said = `${what}: ${JSON.stringify(o)}`;
      assert.ok(rebuilt.includes('recipe:core0'), `agent not rebuilt, ${said}`);
      assert.ok(rebuilt.includes('initramfs'), `initramfs not rebuilt, ${said}`);
      assert.ok(
        rebuilt.some((id) => id.startsWith('artifact:')),
        `no artifact rebuilt, ${said}`,
      );
      assert.ok(rebuilt.includes('layer:core0'), `the agent's archive not repacked, ${said}`);
      for (const [id, outcome] of Object.entries(o)) {
        if ((id.startsWith('recipe:') || id.startsWith('layer:')) && !id.endsWith(':core0'))
          assert.equal(outcome, 'cached', `${id} rebuilt, ${said}`);
      }
    };
    // Unique, so the shared cache cannot already hold these outputs from an earlier run.
    await appendFile(join(repo, 'agent/cmd/core0/main.go'), `\n// edited by the rebuild test ${randomUUID()}\n`);
    await build();
    await check('agent edit');
    const version = `9.9.9-dev.${Date.now()}`;
    const r = await zosBuild(['build', '--profile', 'qemu', '--verbose'], { repo, env: { ZOS_VERSION: version } });
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    await check(`version ${version}`);
    type Manifest = { version: string; kernel: { release: string } };
    const manifest = JSON.parse(await readFile(join(repo, 'out/qemu/manifest.json'), 'utf8')) as Manifest;
    assert.equal(manifest.version, version);
    assert.doesNotMatch(manifest.kernel.release, /9\.9\.9/, 'the kernel release does not carry the project version');
  });

  it('plans to rebuild the kernel and its dependents, nothing else, after a fragment edit', async () => {
    // Fingerprints before and after the edit (not cache state, which other builds sharing the cache change).
    const fingerprints = async () => {
      const r = await zosBuild(['graph', '--profile', 'qemu', '--fingerprints'], { repo });
      assert.equal(r.code, 0, r.stderr);
      return Object.fromEntries(
        [...r.stdout.matchAll(/^(\S+)\s+([0-9a-f]{16}) (?:cached|to build)$/gm)].map((m) => [m[1]!, m[2]!]),
      );
    };
    const before = await fingerprints();
    await appendFile(join(repo, 'kernel/qemu.config'), '\nCONFIG_CRC32=y\n');
    const after = await fingerprints();
    const changed = (id: string) => before[id] !== after[id];
    assert.ok(changed('recipe:linux'), 'the kernel must rebuild');
    // The userland builds against linux-headers, which a kernel config change does not touch.
    assert.ok(!changed('recipe:linux-headers'), 'linux-headers must not depend on the kernel config');
    assert.ok(!changed('recipe:busybox'), 'busybox builds against linux-headers, not the configured kernel');
    assert.ok(!changed('recipe:redis') && !changed('recipe:core0'), 'the userland does not depend on the kernel');
    // The qemu image carries the kernel's modules (e1000, e1000e), and every artifact boots the kernel.
    assert.ok(changed('initramfs'), 'the initramfs holds the modules of the new kernel');
    assert.ok(changed('artifact:efi'), 'zos.efi embeds the kernel');
  });

  it('fails naming the fragment and option when kconfig drops a requested option', async () => {
    // Restore the fragment, then ask for an option that does not exist in 6.1.
    const frag = join(repo, 'kernel/qemu.config');
    await writeFile(
      frag,
      (await readFile(frag, 'utf8')).replace('\nCONFIG_CRC32=y\n', '\nCONFIG_ZOS_DOES_NOT_EXIST=y\n'),
    );
    const r = await zosBuild(['build', 'linux', '--profile', 'qemu'], { repo });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CONFIG_ZOS_DOES_NOT_EXIST=y \(from .*kernel\/qemu\.config\) -> /);
    assert.match(r.stderr, /full log: .*recipe-linux\.log/);
  });
});
