import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { layerSegment, packImage } from '../../build/image/pack.js';
import { collectRootfs, STANDARD_DEVICES } from '../../build/image/rootfs.js';
import { parseNewc } from '../../build/release/compare.js';

const EPOCH = 1700000000;
const TYPE: Record<string, number> = { file: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000 };

/** What the kernel leaves in the root after unpacking the archives in order: the last one to name a path wins. */
function unpackLikeTheKernel(cpio: Buffer): Map<string, { mode: number; data: string }> {
  const tree = new Map<string, { mode: number; data: string }>();
  for (const m of parseNewc(cpio)) {
    if (m.name === 'TRAILER!!!') continue;
    tree.set(m.name, { mode: m.header.mode, data: m.data.toString('latin1') });
  }
  return tree;
}

describe('packImage: one archive per layer, concatenated', () => {
  it('unpacks to the same tree as the merged layers, overrides and directory modes included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zos-pack-'));
    try {
      const base = join(dir, 'skeleton');
      const a = join(dir, 'a');
      const b = join(dir, 'b');
      await mkdir(join(base, 'tmp'), { recursive: true });
      await chmod(join(base, 'tmp'), 0o1777);
      await mkdir(join(base, 'var'), { recursive: true });
      await symlink('../run', join(base, 'var/run'));
      await mkdir(join(a, 'usr/bin'), { recursive: true });
      await mkdir(join(a, 'etc/secret'), { recursive: true });
      await chmod(join(a, 'etc/secret'), 0o700);
      await writeFile(join(a, 'usr/bin/tool'), 'from a');
      await writeFile(join(a, 'usr/bin/kept'), 'a only');
      await symlink('tool', join(a, 'usr/bin/link'));
      await mkdir(join(b, 'usr/bin'), { recursive: true });
      await mkdir(join(b, 'etc/secret'), { recursive: true });
      await chmod(join(b, 'etc/secret'), 0o755); // a later layer's mode wins, as in the merged tree
      await writeFile(join(b, 'usr/bin/tool'), 'b replaces a');
      await writeFile(join(b, 'usr/bin/link'), 'a file where a had a symlink');
      const generated = [{ path: 'etc/os-release', data: 'NAME=zos\n', mode: 0o644 }];
      const out = join(dir, 'initramfs.cpio.zst');
      const res = await packImage({
        base: [base],
        layers: [
          { component: 'a', rootfs: a },
          { component: 'b', rootfs: b },
        ],
        generated,
        select: (e) => e,
        epoch: EPOCH,
        compression: 'zstd',
        outFile: out,
        workDir: join(dir, 'work'),
      });
      assert.deepEqual(
        res.segments.map((s) => s.component),
        ['a', 'b', 'generated'],
      );
      const cpio = execFileSync('zstd', ['-d', '-c', out], { maxBuffer: 1 << 26 });
      assert.equal(parseNewc(cpio).filter((m) => m.name === 'TRAILER!!!').length, 3, 'one archive per piece');

      const merged = await collectRootfs([base, a, b], generated);
      const unpacked = unpackLikeTheKernel(cpio);
      assert.deepEqual([...unpacked.keys()].sort(), merged.map((e) => e.path).sort());
      for (const e of merged) {
        const got = unpacked.get(e.path)!;
        assert.equal(got.mode, TYPE[e.type]! | e.mode, `mode of ${e.path}`);
        if (e.type === 'symlink') assert.equal(got.data, e.target, e.path);
      }
      assert.equal(unpacked.get('usr/bin/tool')!.data, 'b replaces a');
      assert.equal(unpacked.get('usr/bin/link')!.mode, 0o100644);
      assert.equal(unpacked.get('tmp')!.mode, 0o041777);
      assert.equal(unpacked.get('etc/secret')!.mode, 0o040755);
      for (const d of STANDARD_DEVICES) assert.ok(unpacked.has(d.path), d.path);
      // The pieces' sizes are the file's.
      assert.equal(
        res.segments.reduce((n, s) => n + s.bytes, 0),
        (await readFile(out)).length,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is byte-identical when packed again, and a layer given as a prebuilt archive packs the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zos-pack-'));
    try {
      const a = join(dir, 'a');
      await mkdir(join(a, 'bin'), { recursive: true });
      await writeFile(join(a, 'bin/x'), 'x'.repeat(10000));
      const opts = {
        base: [],
        generated: [],
        select: (e: Parameters<Parameters<typeof packImage>[0]['select']>[0]) => e,
        epoch: EPOCH,
        compression: 'xz' as const,
      };
      await packImage({
        ...opts,
        layers: [{ component: 'a', rootfs: a }],
        outFile: join(dir, '1'),
        workDir: join(dir, 'w1'),
      });
      const segment = { rootfs: a, select: opts.select, epoch: EPOCH, compression: 'xz' as const };
      assert.ok(await layerSegment({ ...segment, outFile: join(dir, 'a.cpio.xz'), workDir: join(dir, 'wa') }));
      await packImage({
        ...opts,
        layers: [{ component: 'a', rootfs: a, segment: join(dir, 'a.cpio.xz') }],
        outFile: join(dir, '2'),
        workDir: join(dir, 'w2'),
      });
      assert.ok((await readFile(join(dir, '1'))).equals(await readFile(join(dir, '2'))));
      // xz -d reads the concatenated streams whole, as the kernel does.
      const cpio = execFileSync('xz', ['-d', '-c', join(dir, '2')]);
      assert.equal(unpackLikeTheKernel(cpio).get('bin/x')!.data.length, 10000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mounted layers: a squashfs image and links into its mount', () => {
  it('unpacks links, etc/ as files and the image; the image holds the files with their modes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zos-mounted-'));
    try {
      const tools = join(dir, 'tools');
      const later = join(dir, 'later');
      await mkdir(join(tools, 'usr/sbin'), { recursive: true });
      await mkdir(join(tools, 'usr/lib'), { recursive: true });
      await mkdir(join(tools, 'etc'), { recursive: true });
      await writeFile(join(tools, 'usr/sbin/mkfs.x'), 'mkfs'.repeat(5000));
      await chmod(join(tools, 'usr/sbin/mkfs.x'), 0o4755);
      await writeFile(join(tools, 'usr/lib/libx.so.1.0'), 'lib');
      await symlink('libx.so.1.0', join(tools, 'usr/lib/libx.so.1'));
      await writeFile(join(tools, 'usr/sbin/replaced'), 'from the image');
      await writeFile(join(tools, 'etc/x.conf'), 'writable config');
      await mkdir(join(later, 'usr/sbin'), { recursive: true });
      await writeFile(join(later, 'usr/sbin/replaced'), 'a later layer wins');
      const pack = (n: string) =>
        packImage({
          base: [],
          generated: [],
          select: (e) => e,
          epoch: EPOCH,
          compression: 'zstd',
          layers: [
            { component: 'tools', rootfs: tools, mounted: true },
            { component: 'later', rootfs: later },
          ],
          outFile: join(dir, n),
          workDir: join(dir, `w-${n}`),
        });
      await pack('1');
      await pack('2');
      const image = await readFile(join(dir, '1'));
      assert.ok(image.equals(await readFile(join(dir, '2'))), 'same inputs, same bytes (squashfs included)');

      const tree = unpackLikeTheKernel(execFileSync('zstd', ['-d', '-c', join(dir, '1')], { maxBuffer: 1 << 26 }));
      const link = tree.get('usr/sbin/mkfs.x')!;
      assert.equal(link.mode & 0o170000, TYPE.symlink);
      assert.equal(link.data, '/usr/lib/zos/layers/tools/usr/sbin/mkfs.x');
      assert.equal(tree.get('usr/lib/libx.so.1')!.data, 'libx.so.1.0', "the layer's own symlinks stay as they are");
      assert.equal(tree.get('etc/x.conf')!.data, 'writable config', 'etc/ stays an ordinary file');
      assert.equal(tree.get('etc/x.conf')!.mode & 0o170000, TYPE.file);
      assert.equal(tree.get('usr/sbin/replaced')!.data, 'a later layer wins');
      assert.equal(tree.get('usr/lib/zos/layers/tools')!.mode & 0o170000, TYPE.dir, 'the mount point');

      // An independent reader (squashfs-tools' unsquashfs) finds the files, modes and owners.
      const sq = join(dir, 'tools.squashfs');
      await writeFile(sq, Buffer.from(tree.get('usr/lib/zos/layers/tools.squashfs')!.data, 'latin1'));
      const listing = execFileSync('unsquashfs', ['-lln', '-d', '', sq], { encoding: 'utf8' });
      assert.match(listing, /-rwsr-xr-x 0\/0 +20000 \S+ \S+ \/usr\/sbin\/mkfs\.x\n/);
      assert.match(listing, /lrwxrwxrwx 0\/0 .* \/usr\/lib\/libx\.so\.1 -> libx\.so\.1\.0\n/);
      assert.doesNotMatch(listing, /x\.conf/, 'etc/ is not in the image');
      execFileSync('unsquashfs', ['-q', '-n', '-d', join(dir, 'out'), sq]);
      assert.equal(await readFile(join(dir, 'out/usr/sbin/mkfs.x'), 'utf8'), 'mkfs'.repeat(5000));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
