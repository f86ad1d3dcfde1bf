import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, symlink, writeFile, link } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cpioStream, type CpioEntry } from '../../build/image/cpio.js';
import { collectRootfs, normalizeMode, STANDARD_DEVICES } from '../../build/image/rootfs.js';
import { ZosError } from '../../build/util/errors.js';
import { imageTmpDir, mustRun, readAll } from '../helpers/image-tools.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => {
  ({ dir, cleanup } = await imageTmpDir('rootfs'));
});
after(() => cleanup());

/** Writes a layer from a compact description; modes are chmod'ed explicitly (umask-proof). */
async function layer(
  name: string,
  spec: Record<string, { file?: string; mode?: number; link?: string; dir?: true }>,
): Promise<string> {
  const root = join(dir, name);
  await mkdir(root, { recursive: true });
  for (const [rel, s] of Object.entries(spec)) {
    const abs = join(root, rel);
    if (s.dir) {
      await mkdir(abs, { recursive: true });
      if (s.mode !== undefined) await chmod(abs, s.mode);
    } else if (s.link !== undefined) {
      await mkdir(join(abs, '..'), { recursive: true });
      await symlink(s.link, abs);
    } else {
      await mkdir(join(abs, '..'), { recursive: true });
      await writeFile(abs, s.file ?? '');
      await chmod(abs, s.mode ?? 0o644);
    }
  }
  return root;
}

const byPath = (list: CpioEntry[]) => new Map(list.map((e) => [e.path, e]));
const dataOf = (e: CpioEntry | undefined) =>
  e?.data === undefined ? undefined : Buffer.isBuffer(e.data) ? e.data.toString() : e.data.file;

describe('collectRootfs', () => {
  it('later layers override files; modes keep exec bits, lose group/other write, keep sticky dirs', async () => {
    const base = await layer('base', {
      'bin/busybox': { file: 'BB', mode: 0o755 },
      'bin/sh': { link: 'busybox' },
      'etc/conf': { file: 'base', mode: 0o666 },
      'etc/secret': { file: 's', mode: 0o600 },
      'etc/loose': { dir: true, mode: 0o777 },
      'sbin/tool': { file: 't', mode: 0o775 },
      tmp: { dir: true, mode: 0o1777 },
    });
    const overlay = await layer('overlay', {
      'etc/conf': { file: 'overlay', mode: 0o644 },
      'etc/extra': { file: 'x', mode: 0o640 },
      'bin/sh': { link: '/bin/busybox' },
    });
    const list = await collectRootfs([base, overlay], []);
    const m = byPath(list);
    assert.equal(dataOf(m.get('etc/conf')), join(overlay, 'etc/conf'));
    assert.equal(m.get('etc/conf')!.mode, 0o644);
    assert.equal(m.get('etc/extra')!.mode, 0o640);
    assert.equal(m.get('etc/secret')!.mode, 0o600);
    assert.equal(m.get('bin/busybox')!.mode, 0o755);
    assert.equal(m.get('sbin/tool')!.mode, 0o755);
    assert.equal(m.get('etc/loose')!.mode, 0o755);
    assert.equal(m.get('tmp')!.mode, 0o1777);
    assert.equal(m.get('bin/sh')!.type, 'symlink');
    assert.equal(m.get('bin/sh')!.target, '/bin/busybox');
    // Sorted bytewise, parents first.
    const paths = list.map((e) => e.path);
    assert.deepEqual(
      paths,
      [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
  });

  it('adds dev/console (char 5,1, 0600) and dev/null (char 1,3, 0666) with their directory', async () => {
    const root = await layer('plain', { init: { file: '#!/bin/sh', mode: 0o755 } });
    const m = byPath(await collectRootfs([root]));
    assert.deepEqual(m.get('dev'), { path: 'dev', type: 'dir', mode: 0o755 });
    assert.deepEqual(m.get('dev/console'), {
      path: 'dev/console',
      type: 'char',
      mode: 0o600,
      rdevMajor: 5,
      rdevMinor: 1,
    });
    assert.deepEqual(m.get('dev/null'), { path: 'dev/null', type: 'char', mode: 0o666, rdevMajor: 1, rdevMinor: 3 });
    assert.equal(STANDARD_DEVICES.length, 2);
  });

  it('adds generated files with missing parents, overriding a layer file', async () => {
    const root = await layer('gen', { 'etc/os-release': { file: 'stale' } });
    const m = byPath(
      await collectRootfs(
        [root],
        [
          { path: 'etc/os-release', data: 'NAME=zos\n', mode: 0o644 },
          { path: 'etc/zos/agent.toml', data: Buffer.from('x=1\n'), mode: 0o600 },
        ],
      ),
    );
    assert.equal(dataOf(m.get('etc/os-release')), 'NAME=zos\n');
    assert.equal(m.get('etc/zos')!.type, 'dir');
    assert.equal(m.get('etc/zos/agent.toml')!.mode, 0o600);
  });

  it('a file replacing a directory is an error naming both layers', async () => {
    const a = await layer('conf-a', { 'etc/foo/x': { file: '1' } });
    const b = await layer('conf-b', { 'etc/foo': { file: '2' } });
    await assert.rejects(collectRootfs([a, b]), (err: unknown) => {
      assert.ok(err instanceof ZosError);
      assert.match(err.message, /etc\/foo/);
      assert.ok(err.message.includes(`a directory in ${a}`), err.message);
      assert.ok(err.message.includes(`a file in ${b}`), err.message);
      return true;
    });
  });

  it('a directory replacing a symlink or file is an error naming both layers', async () => {
    const a = await layer('lib-a', { lib: { link: 'usr/lib' } });
    const b = await layer('lib-b', { 'lib/x.so': { file: 'so' } });
    await assert.rejects(collectRootfs([a, b]), (err: unknown) => {
      assert.ok(err instanceof ZosError);
      assert.ok(err.message.includes(`a symlink in ${a}`) && err.message.includes(`a directory in ${b}`), err.message);
      return true;
    });
  });

  it('a generated file under a layer file names the layer and "generated"', async () => {
    const a = await layer('gen-conflict', { etc: { file: 'not a dir' } });
    await assert.rejects(
      collectRootfs([a], [{ path: 'etc/os-release', data: 'x', mode: 0o644 }]),
      /a file in .*gen-conflict but a directory in generated/,
    );
  });

  it('rejects a FIFO in a layer, a missing layer and a bad generated path', async () => {
    const a = await layer('fifo', {});
    execFileSync('mkfifo', [join(a, 'pipe')]);
    await assert.rejects(collectRootfs([a]), /pipe is a socket, FIFO or device node/);
    await assert.rejects(collectRootfs([join(dir, 'nope')]), /rootfs layer .* is not a directory/);
    await assert.rejects(collectRootfs([], [{ path: '../x', data: '', mode: 0o644 }]), ZosError);
  });

  it('hard-linked files in a layer become separate files; the result packs and reads back', async () => {
    const a = await layer('hl', { 'bin/a': { file: 'same', mode: 0o755 } });
    await link(join(a, 'bin/a'), join(a, 'bin/b'));
    const list = await collectRootfs([a], [{ path: 'etc/os-release', data: 'NAME=zos\n', mode: 0o644 }]);
    const cpio = join(dir, 'hl.cpio');
    await writeFile(cpio, await readAll(cpioStream(list, { epoch: 0 })));
    const names = (await mustRun('bsdtar', ['-tf', cpio])).toString().trim().split('\n');
    assert.deepEqual(names, ['bin', 'bin/a', 'bin/b', 'dev', 'dev/console', 'dev/null', 'etc', 'etc/os-release']);
    const listing = (await mustRun('cpio', ['-itv', '--numeric-uid-gid', '-F', cpio])).toString();
    assert.match(listing, /^-rwxr-xr-x +1 0 +0 +4 .* bin\/b$/m);
  });

  it('normalizeMode keeps sticky directories only', () => {
    assert.equal(normalizeMode({ mode: 0o40777 }, true), 0o755);
    assert.equal(normalizeMode({ mode: 0o41777 }, true), 0o1777);
    assert.equal(normalizeMode({ mode: 0o104755 }, false), 0o4755);
    assert.equal(normalizeMode({ mode: 0o101777 }, false), 0o1755);
  });
});
