import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile, chmod, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { EntryGuard, extractArchive, UnsafeArchiveError, UnsafeEntry } from '../../build/steps/extract.js';
import { ZosError } from '../../build/util/errors.js';
import { imageTmpDir, mustRun } from '../helpers/image-tools.js';
import { rawTar, type RawTarEntry } from '../helpers/tar-raw.js';
import { unpackTree } from '../../build/cache/pack.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let outside = '';
before(async () => {
  ({ dir, cleanup } = await imageTmpDir('extract'));
  // The place hostile archives aim at; it must stay empty.
  outside = join(dir, 'outside');
  await mkdir(outside);
});
after(() => cleanup());

/** Writes `tar` as .tar, .tar.gz, .tar.xz or .tar.bz2 (the last two with the host tools). */
async function writeArchive(name: string, tar: Buffer): Promise<string> {
  const file = join(dir, name);
  if (name.endsWith('.tar')) await writeFile(file, tar);
  else if (name.endsWith('.tar.gz')) await writeFile(file, gzipSync(tar));
  else if (name.endsWith('.tar.xz')) await writeFile(file, await mustRun('xz', ['-c'], { input: tar }));
  else if (name.endsWith('.tar.bz2')) await writeFile(file, await mustRun('bzip2', ['-c'], { input: tar }));
  else throw new Error(name);
  return file;
}

/** Everything under dir's parent that starts with dest's name: the dest itself and temp siblings. */
async function leftovers(parent: string, name: string): Promise<string[]> {
  return (await readdir(parent)).filter((n) => n.startsWith(name));
}

const benignFirst: RawTarEntry[] = [
  { path: 'pkg-1.0/', type: '5' },
  { path: 'pkg-1.0/ok.txt', type: '0', data: 'fine\n' },
];

const hostile: { name: string; entries: RawTarEntry[]; bad: string; reason: RegExp; strip?: number }[] = [
  {
    name: 'dotdot',
    entries: [...benignFirst, { path: 'pkg-1.0/../../evil', type: '0', data: 'x' }],
    bad: 'pkg-1.0/../../evil',
    reason: /"\.\." component/,
    strip: 1,
  },
  {
    name: 'dotdot-nostrip',
    entries: [{ path: '../evil', type: '0', data: 'x' }],
    bad: '../evil',
    reason: /"\.\." component/,
  },
  {
    name: 'absolute',
    entries: [...benignFirst, { path: '/abs/evil', type: '0', data: 'x' }],
    bad: '/abs/evil',
    reason: /absolute path/,
    strip: 1,
  },
  {
    name: 'symlink-escape',
    entries: [
      ...benignFirst,
      { path: 'pkg-1.0/link', type: '2', linkpath: '/tmp/outside' },
      { path: 'pkg-1.0/link/evil', type: '0', data: 'x' },
    ],
    bad: 'pkg-1.0/link/evil',
    reason: /written through the symlink link -> \/tmp\/outside/,
    strip: 1,
  },
  {
    name: 'symlink-relative-escape',
    entries: [
      { path: 'link', type: '2', linkpath: '../../outside' },
      { path: 'link/evil', type: '0', data: 'x' },
    ],
    bad: 'link/evil',
    reason: /written through the symlink/,
  },
  {
    name: 'hardlink-abs',
    entries: [...benignFirst, { path: 'pkg-1.0/passwd', type: '1', linkpath: '/etc/passwd' }],
    bad: 'pkg-1.0/passwd',
    reason: /absolute hard link target "\/etc\/passwd"/,
    strip: 1,
  },
  {
    name: 'hardlink-dotdot',
    entries: [...benignFirst, { path: 'pkg-1.0/passwd', type: '1', linkpath: 'pkg-1.0/../../../etc/passwd' }],
    bad: 'pkg-1.0/passwd',
    reason: /"\.\." component in its hard link target/,
    strip: 1,
  },
  {
    name: 'hardlink-above-strip',
    entries: [...benignFirst, { path: 'pkg-1.0/passwd', type: '1', linkpath: 'passwd' }],
    bad: 'pkg-1.0/passwd',
    reason: /outside the extracted tree/,
    strip: 1,
  },
  {
    name: 'chardev',
    entries: [...benignFirst, { path: 'pkg-1.0/null', type: '3', devmajor: 1, devminor: 3 }],
    bad: 'pkg-1.0/null',
    reason: /device node/,
    strip: 1,
  },
  {
    name: 'blockdev',
    entries: [{ path: 'sda', type: '4', devmajor: 8, devminor: 0 }],
    bad: 'sda',
    reason: /device node/,
  },
  { name: 'fifo', entries: [{ path: 'p', type: '6' }], bad: 'p', reason: /FIFO/ },
];

describe('extractArchive: hostile archives fail loudly and leave nothing', () => {
  for (const h of hostile) {
    for (const ext of h.name === 'symlink-escape' || h.name === 'dotdot'
      ? ['.tar', '.tar.gz', '.tar.xz', '.tar.bz2']
      : ['.tar.gz']) {
      it(`${h.name}${ext}`, async () => {
        const archive = await writeArchive(`${h.name}${ext}`, rawTar(h.entries));
        const parent = join(dir, 'dest', `${h.name}${ext}`);
        await mkdir(parent, { recursive: true });
        const dest = join(parent, 'src');
        await assert.rejects(extractArchive(archive, dest, { stripComponents: h.strip ?? 0 }), (err: unknown) => {
          assert.ok(err instanceof UnsafeArchiveError, String(err));
          assert.ok(err instanceof ZosError);
          assert.equal(err.archive, archive);
          assert.equal(err.entry, h.bad);
          assert.ok(err.message.includes(archive), err.message);
          assert.ok(err.message.includes(JSON.stringify(h.bad)), err.message);
          assert.match(err.message, h.reason);
          return true;
        });
        assert.deepEqual(await leftovers(parent, 'src'), []);
        assert.deepEqual(await readdir(outside), []);
        assert.deepEqual(await readdir(join(dir, 'dest')).then((l) => l.includes('evil')), false);
      });
    }
  }

  it('a hostile archive does not touch an existing empty destination', async () => {
    const archive = await writeArchive(
      'hostile-existing.tar.gz',
      rawTar([{ path: '/abs/evil', type: '0', data: 'x' }]),
    );
    const dest = join(dir, 'existing-empty');
    await mkdir(dest);
    await assert.rejects(extractArchive(archive, dest), UnsafeArchiveError);
    assert.deepEqual(await readdir(dest), []);
  });
});

describe('extractArchive: benign archives', () => {
  let tree = '';
  before(async () => {
    // Built with the host tar, as upstream tarballs are.
    tree = join(dir, 'tree');
    const top = join(tree, 'pkg-1.0');
    await mkdir(join(top, 'sub', 'deep'), { recursive: true });
    await writeFile(join(top, 'configure'), '#!/bin/sh\nexit 0\n');
    await chmod(join(top, 'configure'), 0o755);
    await writeFile(join(top, 'README'), 'read me\n');
    await chmod(join(top, 'README'), 0o644);
    await writeFile(join(top, 'sub', 'deep', 'data.bin'), Buffer.alloc(70_000, 1));
    await symlink('README', join(top, 'README.link'));
    await symlink('../README', join(top, 'sub', 'up.link'));
  });

  for (const [ext, flag] of [
    ['.tar.gz', '-z'],
    ['.tgz', '-z'],
    ['.tar.xz', '-J'],
    ['.tar.bz2', '-j'],
    ['.tar', ''],
  ] as const) {
    it(`${ext}: extracts with stripComponents=1, keeps exec bits and symlinks`, async () => {
      const archive = join(dir, `pkg-1.0${ext}`);
      await mustRun('tar', ['-c', ...(flag ? [flag] : []), '-f', archive, '-C', tree, 'pkg-1.0']);
      const dest = join(dir, 'ok', ext.slice(1), 'src');
      await extractArchive(archive, dest, { stripComponents: 1 });
      assert.deepEqual((await readdir(dest)).sort(), ['README', 'README.link', 'configure', 'sub']);
      assert.equal((await stat(join(dest, 'configure'))).mode & 0o777, 0o755);
      assert.equal((await stat(join(dest, 'README'))).mode & 0o111, 0);
      assert.equal(await readFile(join(dest, 'README'), 'utf8'), 'read me\n');
      assert.equal((await readFile(join(dest, 'sub/deep/data.bin'))).length, 70_000);
      assert.equal(await readlink(join(dest, 'README.link')), 'README');
      assert.equal(await readlink(join(dest, 'sub/up.link')), '../README');
      assert.ok((await lstat(join(dest, 'sub/up.link'))).isSymbolicLink());
      assert.deepEqual(await leftovers(join(dir, 'ok', ext.slice(1)), 'src'), ['src']);
    });
  }

  it('keeps in-tree hard links and absolute symlinks that nothing writes through', async () => {
    const archive = await writeArchive(
      'links.tar.gz',
      rawTar([
        { path: 'p/', type: '5' },
        { path: 'p/a', type: '0', data: 'A', mode: 0o755 },
        { path: 'p/b', type: '1', linkpath: 'p/a' },
        { path: 'p/abs', type: '2', linkpath: '/usr/share/zoneinfo' },
        { path: 'p/d/rel', type: '2', linkpath: '../../elsewhere' },
      ]),
    );
    const dest = join(dir, 'links-out');
    await extractArchive(archive, dest, { stripComponents: 1 });
    assert.equal(await readFile(join(dest, 'b'), 'utf8'), 'A');
    assert.equal((await stat(join(dest, 'a'))).nlink, 2);
    // Kept verbatim (node-tar alone would rewrite them), dangling, and nothing was written through them.
    assert.equal(await readlink(join(dest, 'abs')), '/usr/share/zoneinfo');
    assert.equal(await readlink(join(dest, 'd/rel')), '../../elsewhere');
  });

  it('takes the format from opts.name when the archive file has no extension (the sha256-named cache)', async () => {
    const xz = await readFile(
      await writeArchive(
        'named.tar.xz',
        rawTar([
          { path: 'n/', type: '5' },
          { path: 'n/f', type: '0', data: 'named' },
        ]),
      ),
    );
    const cached = join(dir, 'e3b0c44298fc1c149afbf4c8996fb924');
    await writeFile(cached, xz);
    const dest = join(dir, 'named-out');
    await extractArchive(cached, dest, { stripComponents: 1, name: 'named-1.0.tar.xz' });
    assert.equal(await readFile(join(dest, 'f'), 'utf8'), 'named');
  });

  it('refuses a non-empty destination, an unknown type and a corrupt archive', async () => {
    const good = await writeArchive('good.tar.gz', rawTar([{ path: 'f', type: '0', data: 'x' }]));
    const full = join(dir, 'full');
    await mkdir(full);
    await writeFile(join(full, 'keep'), 'k');
    await assert.rejects(extractArchive(good, full), /exists and is not empty/);
    assert.deepEqual(await readdir(full), ['keep']);

    await assert.rejects(extractArchive(join(dir, 'x.zip'), join(dir, 'zip-out')), /unknown archive type/);

    const xz = await readFile(
      await writeArchive('whole.tar.xz', rawTar([{ path: 'f', type: '0', data: 'x'.repeat(100_000) }])),
    );
    const truncated = join(dir, 'truncated.tar.xz');
    await writeFile(truncated, xz.subarray(0, Math.floor(xz.length / 2)));
    await assert.rejects(extractArchive(truncated, join(dir, 'trunc-out')), (err: unknown) => {
      assert.ok(err instanceof ZosError);
      assert.ok(err.message.includes(truncated), err.message);
      return true;
    });
    assert.deepEqual(await leftovers(dir, 'trunc-out'), []);
  });
});

describe('extractArchive and an interrupted build', () => {
  it('stops when the build is aborted, throws its reason and leaves nothing behind', async () => {
    const reason = new ZosError('interrupted by SIGINT');
    const entries: RawTarEntry[] = [{ path: 'big/', type: '5' }];
    for (let i = 0; i < 4000; i++) entries.push({ path: `big/f${i}`, type: '0', data: `${i}\n`.repeat(500) });
    const archive = await writeArchive('big.tar.xz', rawTar(entries));

    // Already aborted: nothing is even created.
    const before = new AbortController();
    before.abort(reason);
    await assert.rejects(extractArchive(archive, join(dir, 'abort-before'), { signal: before.signal }), reason);
    assert.deepEqual(await leftovers(dir, 'abort-before'), []);

    // Aborted while the files are written: it stops there, not after the whole archive.
    const during = new AbortController();
    const dest = join(dir, 'abort-during');
    let settled = false;
    const run = extractArchive(archive, dest, { stripComponents: 1, signal: during.signal }).finally(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(settled, false, 'the archive must take longer than 100 ms to extract for this test to mean anything');
    during.abort(reason);
    await assert.rejects(run, reason);
    assert.deepEqual(await leftovers(dir, 'abort-during'), []);
  });
});

describe('EntryGuard', () => {
  const check = (g: EntryGuard, path: string, type: string, linkpath?: string) => g.check({ path, type, linkpath });

  it('maps paths the way node-tar strips them and skips the top directory', () => {
    const g = new EntryGuard(1);
    assert.equal(check(g, 'pkg/', 'Directory'), null);
    assert.equal(check(g, 'pkg', 'Directory'), null);
    assert.equal(check(g, 'pkg/a/./b', 'File'), 'a/b');
    assert.equal(check(g, 'TOPLEVEL', 'File'), null);
  });

  it('refuses replacing a symlink, writing below a file, and links to unknown files', () => {
    const g = new EntryGuard(0);
    check(g, 'l', 'SymbolicLink', 'target');
    assert.throws(() => check(g, 'l', 'File'), UnsafeEntry);
    check(g, 'f', 'File');
    assert.throws(() => check(g, 'f/x', 'File'), /below the file f/);
    assert.throws(() => check(g, 'h', 'Link', 'nothing'), /not a file extracted earlier/);
    assert.throws(() => check(g, 'h', 'Link', 'l/x'), /symlink/);
    assert.throws(() => check(g, 'x', 'SparseFile'), /unsupported type/);
  });
});

describe('remote cache entries (unpackTree) go through the same guard as source archives', () => {
  // The trick from issue 12: a symlink out of the tree, a hard link to that symlink (which the
  // kernel makes a second symlink), then a file written through the hard link's name.
  const linkTrick = () =>
    rawTar([
      { path: 'rootfs/', type: '5' },
      { path: 'rootfs/lnk', type: '2', linkpath: outside },
      { path: 'rootfs/h', type: '1', linkpath: 'rootfs/lnk' },
      { path: 'rootfs/h/file', type: '0', data: 'planted' },
    ]);

  it('extractArchive refuses a hard link to a symlink', async () => {
    const archive = await writeArchive('link-trick.tar', linkTrick());
    await assert.rejects(extractArchive(archive, join(dir, 'link-trick-src')), (err: unknown) => {
      assert.ok(err instanceof UnsafeArchiveError, String(err));
      assert.equal(err.entry, 'rootfs/h');
      assert.match(err.message, /hard link to "rootfs\/lnk", which is not a file extracted earlier/);
      return true;
    });
    assert.deepEqual(await readdir(outside), []);
  });

  it('unpackTree refuses a hard link to a symlink and writes nothing outside', async () => {
    const archive = await writeArchive('link-trick-step.tar', linkTrick());
    await assert.rejects(unpackTree(archive, join(dir, 'link-trick-step')), (err: unknown) => {
      assert.ok(err instanceof UnsafeArchiveError, String(err));
      assert.equal(err.entry, 'rootfs/h');
      return true;
    });
    assert.deepEqual(await readdir(outside), []);
  });

  for (const h of hostile) {
    it(`unpackTree refuses ${h.name}`, async () => {
      const archive = await writeArchive(`step-${h.name}.tar`, rawTar(h.entries));
      await assert.rejects(unpackTree(archive, join(dir, `step-${h.name}`)), UnsafeArchiveError);
      assert.deepEqual(await readdir(outside), []);
    });
  }
});
