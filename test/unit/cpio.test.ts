import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cpioStream, sortEntries, type CpioEntry } from '../../build/image/cpio.js';
import { ZosError } from '../../build/util/errors.js';
import { imageTmpDir, mustRun, readAll, seededShuffle } from '../helpers/image-tools.js';
import { readNewc } from '../helpers/newc-read.js';

const EPOCH = 1_700_000_000; // 2023-11-14T22:13:20Z

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let entries: CpioEntry[] = [];
let archive: Buffer = Buffer.alloc(0);
const BIG = randomBytes(3 * 1024 * 1024 + 3); // > 1 MiB: the streamed path; odd size: data padding
const SMALL = Buffer.from('#!/bin/sh\necho hi\n');

async function pack(list: readonly CpioEntry[], epoch = EPOCH): Promise<Buffer> {
  return readAll(cpioStream(list, { epoch }));
}

before(async () => {
  ({ dir, cleanup } = await imageTmpDir('cpio'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'big.bin'), BIG);
  await writeFile(join(dir, 'src', 'run.sh'), SMALL);
  entries = [
    { path: 'bin', type: 'dir', mode: 0o755 },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: { file: join(dir, 'src', 'run.sh') } },
    { path: 'bin/sh', type: 'symlink', mode: 0o777, target: 'busybox' },
    { path: 'bin-extra', type: 'dir', mode: 0o700 },
    { path: 'dev', type: 'dir', mode: 0o755 },
    { path: 'dev/console', type: 'char', mode: 0o600, rdevMajor: 5, rdevMinor: 1 },
    { path: 'dev/null', type: 'char', mode: 0o666, rdevMajor: 1, rdevMinor: 3 },
    { path: 'dev/sda', type: 'block', mode: 0o660, rdevMajor: 8, rdevMinor: 0 },
    { path: 'empty', type: 'file', mode: 0o644 },
    { path: 'etc', type: 'dir', mode: 0o755 },
    { path: 'etc/os-release', type: 'file', mode: 0o644, data: Buffer.from('NAME=zos\n') },
    { path: 'init', type: 'symlink', mode: 0o777, target: '/bin/busybox' },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    { path: 'usr', type: 'dir', mode: 0o755 },
    { path: 'usr/big.bin', type: 'file', mode: 0o644, data: { file: join(dir, 'src', 'big.bin') } },
    { path: 'usr/ünïcode-名', type: 'file', mode: 0o600, data: Buffer.from('u') },
  ];
  archive = await pack(entries);
  await writeFile(join(dir, 'a.cpio'), archive);
});
after(() => cleanup());

const expectedOrder = () => sortEntries(entries).map((e) => e.path);

describe('cpio newc writer: structure', () => {
  it('is a newc archive with inodes only on directories (in order), root owners, epoch mtimes and 512-byte total', () => {
    const { records, end } = readNewc(archive);
    assert.equal(archive.length % 512, 0);
    assert.ok(end <= archive.length);
    assert.deepEqual(
      records.map((r) => r.name),
      expectedOrder(),
    );
    let dirs = 0;
    for (const r of records) {
      assert.equal(r.ino, (r.mode & 0o170000) === 0o040000 ? ++dirs : 0, r.name);
      assert.equal(r.uid, 0);
      assert.equal(r.gid, 0);
      assert.equal(r.mtime, EPOCH);
      assert.equal(r.devmajor, 0);
      assert.equal(r.devminor, 0);
      assert.equal(r.check, 0);
      assert.equal(r.nlink, (r.mode & 0o170000) === 0o040000 ? 2 : 1, r.name);
    }
    const byName = new Map(records.map((r) => [r.name, r]));
    assert.equal(byName.get('dev/console')!.mode, 0o020600);
    assert.equal(byName.get('dev/sda')!.mode, 0o060660);
    assert.equal(byName.get('tmp')!.mode, 0o041777);
    assert.equal(byName.get('bin/sh')!.data.toString(), 'busybox');
    assert.ok(byName.get('usr/big.bin')!.data.equals(BIG));
  });

  it('puts parents before children and sorts bytewise (bin < bin-extra < bin/..., as bytes)', () => {
    const names = readNewc(archive).records.map((r) => r.name);
    // '-' (0x2d) sorts before '/' (0x2f): bytewise, not "directory first".
    assert.ok(names.indexOf('bin') < names.indexOf('bin-extra'));
    assert.ok(names.indexOf('bin-extra') < names.indexOf('bin/busybox'));
    for (const n of names) {
      const parent = n.split('/').slice(0, -1).join('/');
      if (parent) assert.ok(names.indexOf(parent) < names.indexOf(n), `${parent} before ${n}`);
    }
  });
});

describe('cpio newc writer: read back by independent tools', () => {
  it('cpio -itv lists names, order, modes, numeric owners, devices and symlink targets', async () => {
    const out = (await mustRun('cpio', ['-itv', '--numeric-uid-gid', '-F', join(dir, 'a.cpio')])).toString();
    const lines = out.trim().split('\n');
    assert.equal(lines.length, entries.length);
    const names = lines.map((l) => l.replace(/^.*? \d{4} /, '').replace(/ -> .*$/, ''));
    assert.deepEqual(names, expectedOrder());
    const line = (name: string) => lines.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} -> `))!;
    assert.match(line('dev/console'), /^crw------- +1 0 +0 +5, +1 /);
    assert.match(line('dev/null'), /^crw-rw-rw- +1 0 +0 +1, +3 /);
    assert.match(line('bin/busybox'), /^-rwxr-xr-x +1 0 +0 +18 /);
    assert.match(line('tmp'), /^drwxrwxrwt +2 0 +0 /);
    assert.match(line('bin/sh'), /^lrwxrwxrwx .* bin\/sh -> busybox$/);
    assert.match(line('init'), / init -> \/bin\/busybox$/);
  });

  it('bsdtar -tvf agrees, and its mtree view shows every mtime == SOURCE_DATE_EPOCH', async () => {
    const file = join(dir, 'a.cpio');
    const list = (await mustRun('bsdtar', ['-tvf', file, '--numeric-owner'])).toString().trim().split('\n');
    assert.equal(list.length, entries.length);
    assert.match(list.find((l) => l.endsWith(' dev/console'))!, /^crw------- +1 0 +0 +5,1 /);
    const mtree = (
      await mustRun('bsdtar', [
        '-cf',
        '-',
        '--format=mtree',
        '--options',
        '!all,type,mode,uid,gid,time,link,device,size',
        `@${file}`,
      ])
    ).toString();
    const rows = mtree.split('\n').filter((l) => l.startsWith('./'));
    assert.equal(rows.length, entries.length);
    for (const row of rows) {
      assert.match(row, new RegExp(` time=${EPOCH}\\.0 `), row);
      assert.match(row, / uid=0 /, row);
      assert.match(row, / gid=0 /, row);
    }
    assert.ok(
      rows.some((r) => r.startsWith('./dev/null ') && r.includes('type=char') && r.includes('device=native,1,3')),
    );
    assert.ok(
      rows.some((r) => r.startsWith('./dev/console ') && r.includes('device=native,5,1') && r.includes('mode=600')),
    );
    assert.ok(rows.some((r) => r.startsWith('./bin/sh ') && r.includes('type=link') && r.includes('link=busybox')));
  });

  it('cpio -id unpacks the same contents, modes and mtimes', async () => {
    const out = join(dir, 'unpacked');
    await mkdir(out);
    // Device nodes are left out: the unpack must also work where mknod is not allowed.
    await mustRun(
      'cpio',
      ['-idm', '--quiet', '--no-absolute-filenames', '--nonmatching', '-F', join(dir, 'a.cpio'), 'dev/*'],
      { cwd: out },
    );
    assert.ok((await readFile(join(out, 'usr/big.bin'))).equals(BIG));
    assert.deepEqual(await readFile(join(out, 'bin/busybox')), SMALL);
    assert.equal(await readFile(join(out, 'etc/os-release'), 'utf8'), 'NAME=zos\n');
    assert.equal((await readFile(join(out, 'empty'))).length, 0);
    assert.equal(await readFile(join(out, 'usr/ünïcode-名'), 'utf8'), 'u');
    assert.equal(await readlink(join(out, 'bin/sh')), 'busybox');
    assert.equal(await readlink(join(out, 'init')), '/bin/busybox');
    const st = await lstat(join(out, 'bin/busybox'));
    assert.equal(st.mode & 0o7777, 0o755);
    assert.equal(Math.floor(st.mtimeMs / 1000), EPOCH);
    assert.equal((await lstat(join(out, 'usr/ünïcode-名'))).mode & 0o7777, 0o600);
  });
});

describe('cpio newc writer: determinism', () => {
  it('the same input twice gives identical bytes', async () => {
    assert.ok((await pack(entries)).equals(archive));
  });

  it('shuffled input gives identical bytes', async () => {
    for (const seed of [1, 2, 3]) assert.ok((await pack(seededShuffle(entries, seed))).equals(archive), `seed ${seed}`);
  });

  it('in-memory data larger than an output chunk, and a known size, give the same bytes', async () => {
    const big = entries.map((e) => (e.path === 'usr/big.bin' ? { ...e, data: BIG } : e));
    assert.ok((await pack(big)).equals(archive));
    const sized = entries.map((e) =>
      e.path === 'usr/big.bin' ? { ...e, data: { file: join(dir, 'src', 'big.bin'), size: BIG.length } } : e,
    );
    assert.ok((await pack(sized)).equals(archive));
  });

  it('a different epoch changes only mtime fields', async () => {
    const other = await pack(entries, EPOCH + 1);
    assert.equal(other.length, archive.length);
    assert.ok(readNewc(other).records.every((r) => r.mtime === EPOCH + 1));
  });
});

describe('cpio newc writer: refuses bad lists before writing', () => {
  const bad: [string, CpioEntry[], RegExp][] = [
    ['a leading slash', [{ path: '/etc', type: 'dir', mode: 0o755 }], /relative/],
    [
      'a .. component',
      [
        { path: 'a', type: 'dir', mode: 0o755 },
        { path: 'a/../b', type: 'dir', mode: 0o755 },
      ],
      /"\.\."/,
    ],
    ['a missing parent', [{ path: 'etc/passwd', type: 'file', mode: 0o644 }], /parent directory etc/],
    [
      'a file as parent',
      [
        { path: 'etc', type: 'file', mode: 0o644 },
        { path: 'etc/x', type: 'file', mode: 0o644 },
      ],
      /not a directory/,
    ],
    [
      'a duplicate',
      [
        { path: 'x', type: 'file', mode: 0o644 },
        { path: 'x', type: 'file', mode: 0o600 },
      ],
      /listed twice/,
    ],
    ['a symlink without target', [{ path: 'x', type: 'symlink', mode: 0o777 }], /without a target/],
    ['a device without numbers', [{ path: 'x', type: 'char', mode: 0o600 }], /rdevMajor/],
    ['type bits in mode', [{ path: 'x', type: 'file', mode: 0o100644 }], /permission bits/],
    [
      'a missing source file',
      [{ path: 'x', type: 'file', mode: 0o644, data: { file: '/nonexistent/zos-cpio' } }],
      /cannot read source/,
    ],
  ];
  for (const [what, list, re] of bad) {
    it(`rejects ${what} with a ZosError naming the entry`, async () => {
      await assert.rejects(pack(list), (err: unknown) => {
        assert.ok(err instanceof ZosError, String(err));
        assert.match(err.message, /initramfs entry "/);
        assert.match(err.message, re);
        return true;
      });
    });
  }

  for (const [what, size] of [
    ['grew', SMALL.length - 1],
    ['shrank', SMALL.length + 1],
  ] as const) {
    it(`fails naming the source when it ${what} after its size was taken`, async () => {
      const list: CpioEntry[] = [
        { path: 'x', type: 'file', mode: 0o644, data: { file: join(dir, 'src', 'run.sh'), size } },
      ];
      await assert.rejects(pack(list), (err: unknown) => {
        assert.ok(err instanceof ZosError, String(err));
        assert.match(err.message, /initramfs entry "x": source .*run\.sh changed size while being archived/);
        return true;
      });
    });
  }

  it('rejects an epoch that does not fit the header', async () => {
    await assert.rejects(pack([], -1), ZosError);
  });

  it('an empty list is just the trailer', async () => {
    const buf = await pack([]);
    assert.equal(buf.length, 512);
    assert.deepEqual(readNewc(buf).records, []);
  });
});
