import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildInitramfs, COMPRESSORS, initramfsFileName } from '../../build/image/compress.js';
import { cpioStream, type CpioEntry } from '../../build/image/cpio.js';
import { COMPRESSIONS } from '../../build/profile/types.js';
import { ZosError } from '../../build/util/errors.js';
import { imageTmpDir, mustRun, readAll, runTool } from '../helpers/image-tools.js';

const EPOCH = 1_700_000_000;
// Half random (incompressible) and half text, so every compressor has real work and output.
const entries: CpioEntry[] = [
  { path: 'bin', type: 'dir', mode: 0o755 },
  { path: 'bin/busybox', type: 'file', mode: 0o755, data: randomBytes(200_000) },
  { path: 'bin/sh', type: 'symlink', mode: 0o777, target: 'busybox' },
  { path: 'dev', type: 'dir', mode: 0o755 },
  { path: 'dev/console', type: 'char', mode: 0o600, rdevMajor: 5, rdevMinor: 1 },
  { path: 'etc', type: 'dir', mode: 0o755 },
  { path: 'etc/motd', type: 'file', mode: 0o644, data: Buffer.from('welcome to zos\n'.repeat(10_000)) },
];

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let raw: Buffer = Buffer.alloc(0);
before(async () => {
  ({ dir, cleanup } = await imageTmpDir('compress'));
  raw = await readAll(cpioStream(entries, { epoch: EPOCH }));
});
after(() => cleanup());

describe('initramfs compression', () => {
  it('names the file after the compression', () => {
    assert.equal(initramfsFileName('xz'), 'initramfs.cpio.xz');
    assert.equal(initramfsFileName('zstd'), 'initramfs.cpio.zst');
    assert.equal(initramfsFileName('gzip'), 'initramfs.cpio.gz');
    assert.equal(initramfsFileName('lz4'), 'initramfs.cpio.lz4');
  });

  for (const compression of COMPRESSIONS) {
    const tool = COMPRESSORS[compression].tool;
    it(`${compression}: passes ${tool} -t, decompresses to the cpio bytes, and is byte-identical across runs`, async () => {
      const a = join(dir, compression, 'a', initramfsFileName(compression));
      const b = join(dir, compression, 'b', initramfsFileName(compression));
      const ra = await buildInitramfs({ entries, epoch: EPOCH, compression, outFile: a });
      await buildInitramfs({ entries, epoch: EPOCH, compression, outFile: b });
      assert.equal(ra.file, a);
      assert.equal(ra.bytes, (await stat(a)).size);
      const bytesA = await readFile(a);
      assert.ok(bytesA.equals(await readFile(b)), 'two runs differ');
      assert.ok(bytesA.length < raw.length, 'not compressed');
      await mustRun(tool, ['-t', '-q', a]);
      const back = await mustRun(tool, ['-dc', a]);
      assert.ok(back.equals(raw), 'decompressed bytes are not the cpio archive');
      // Only the final file is left: no temp siblings.
      assert.deepEqual(await readdir(join(dir, compression, 'a')), [initramfsFileName(compression)]);
    });
  }

  it('xz: uses the CRC32 check the kernel requires', async () => {
    const file = join(dir, 'xz', 'a', 'initramfs.cpio.xz');
    const info = (await mustRun('xz', ['--robot', '-lv', file])).toString();
    const checks = info.split('\n').filter((l) => l.startsWith('block\t') || l.startsWith('totals\t'));
    assert.ok(checks.length >= 2, info);
    assert.ok(
      checks.every((l) => l.includes('\tCRC32')),
      info,
    );
  });

  it('gzip: stores no name and no mtime', async () => {
    const gz = await readFile(join(dir, 'gzip', 'a', 'initramfs.cpio.gz'));
    assert.equal(gz[3]! & 0x08, 0, 'FNAME flag set');
    assert.equal(gz.readUInt32LE(4), 0, 'MTIME is not zero');
  });

  it('lz4: is the legacy frame format the kernel reads', async () => {
    const lz = await readFile(join(dir, 'lz4', 'a', 'initramfs.cpio.lz4'));
    assert.equal(lz.readUInt32LE(0), 0x184c2102);
  });

  it('zstd: the frame carries no dictionary id and decompresses with a plain zstd -d', async () => {
    const zst = await readFile(join(dir, 'zstd', 'a', 'initramfs.cpio.zst'));
    assert.equal(zst.readUInt32LE(0), 0xfd2fb528);
    assert.equal(zst[4]! & 0x03, 0, 'dictionary id present');
  });

  it('a missing tool is a ZosError naming it, and no file is left', async (t) => {
    const saved = process.env.PATH;
    t.after(() => {
      process.env.PATH = saved;
    });
    process.env.PATH = join(dir, 'no-such-bin');
    const out = join(dir, 'missing', 'initramfs.cpio.lz4');
    await assert.rejects(
      buildInitramfs({ entries, epoch: EPOCH, compression: 'lz4', outFile: out }),
      (err: unknown) => {
        assert.ok(err instanceof ZosError);
        assert.match(err.message, /compressor lz4 not found/);
        assert.match(err.hint ?? '', /lz4/);
        return true;
      },
    );
    process.env.PATH = saved;
    assert.deepEqual(await readdir(join(dir, 'missing')), []);
  });

  it('a bad entry fails the build with its own error and leaves no partial file', async () => {
    const out = join(dir, 'partial', 'initramfs.cpio.xz');
    const bad: CpioEntry[] = [...entries, { path: 'usr/x', type: 'file', mode: 0o644 }];
    await assert.rejects(
      buildInitramfs({ entries: bad, epoch: EPOCH, compression: 'xz', outFile: out }),
      /parent directory usr/,
    );
    assert.deepEqual(await readdir(join(dir, 'partial')), []);
  });

  it('a failing build keeps the previous image under the final name', async () => {
    const out = join(dir, 'keep', 'initramfs.cpio.gz');
    await buildInitramfs({ entries, epoch: EPOCH, compression: 'gzip', outFile: out });
    const before = await readFile(out);
    const bad: CpioEntry[] = [...entries, { path: 'x', type: 'file', mode: 0o644, data: { file: join(dir, 'nope') } }];
    await assert.rejects(buildInitramfs({ entries: bad, epoch: EPOCH, compression: 'gzip', outFile: out }), ZosError);
    assert.ok((await readFile(out)).equals(before));
    assert.deepEqual(await readdir(join(dir, 'keep')), ['initramfs.cpio.gz']);
    assert.equal((await runTool('gzip', ['-t', out])).code, 0);
  });
});
