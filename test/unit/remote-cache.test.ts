import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create, list } from 'tar';
import { packTree } from '../../build/cache/pack.js';
import { RemoteStepCache } from '../../build/cache/remote.js';
import { sha256, sha256File, sha256Tree } from '../../build/util/hash.js';
import { stall, TestHttpServer } from '../helpers/http-server.js';
import { NginxServer, nginxSkipReason } from '../helpers/nginx.js';

const scratch = await mkdtemp(join(tmpdir(), 'zos-remote-test-'));
after(() => rm(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(scratch, `${name}-${++n}`);
const newFingerprint = () => sha256(randomBytes(16));

/** A step output with the things that must survive: exec bits, symlinks of all kinds, empty dirs. */
async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'rootfs/bin'), { recursive: true });
  await mkdir(join(root, 'rootfs/lib'), { recursive: true });
  await mkdir(join(root, 'rootfs/sbin'), { recursive: true });
  await mkdir(join(root, 'rootfs/usr/share/doc'), { recursive: true });
  await mkdir(join(root, 'export/empty'), { recursive: true });
  await mkdir(join(root, 'boot'), { recursive: true });
  await writeFile(join(root, 'rootfs/bin/busybox'), randomBytes(50_000));
  await chmod(join(root, 'rootfs/bin/busybox'), 0o755);
  await link(join(root, 'rootfs/bin/busybox'), join(root, 'rootfs/bin/busybox.hardlink'));
  await writeFile(join(root, 'rootfs/lib/libfoo.so.1'), 'elf\n');
  await symlink('libfoo.so.1', join(root, 'rootfs/lib/libfoo.so'));
  await symlink('/bin/busybox', join(root, 'rootfs/sbin/init')); // absolute and dangling: kept verbatim
  await symlink('../../lib/libfoo.so.1', join(root, 'rootfs/usr/share/up')); // `..` target
  await writeFile(join(root, 'rootfs/usr/share/doc/a file with spaces.txt'), 'hello\n');
  await writeFile(join(root, 'boot/vmlinuz'), randomBytes(200_000));
}

describe('packTree', () => {
  it('gives the same bytes for the same tree, whatever the mtimes, with no owners or times', async () => {
    const a = fresh('tree');
    await makeTree(a);
    const t1 = fresh('a.tar');
    await packTree(a, t1);
    await utimes(join(a, 'boot/vmlinuz'), new Date(), new Date(1_000_000_000_000));
    await utimes(join(a, 'rootfs/lib'), new Date(), new Date(1_000_000_000_000));
    const t2 = fresh('b.tar');
    await packTree(a, t2);
    assert.equal(await sha256File(t1), await sha256File(t2));

    const seen: string[] = [];
    await list({
      file: t1,
      onReadEntry: (e) => {
        seen.push(e.path);
        assert.ok(!e.header.uid, `${e.path}: no uid`);
        assert.ok(!e.header.gid, `${e.path}: no gid`);
        assert.equal(e.header.atime, undefined);
        assert.equal(e.header.ctime, undefined);
        if (e.type !== 'Directory') assert.equal(e.header.mtime?.getTime(), 0, `${e.path}: mtime 0`);
      },
    });
    const sorted = [...seen].sort((x, y) => (x.replace(/\/$/, '') < y.replace(/\/$/, '') ? -1 : 1));
    assert.deepEqual(seen, sorted);
    assert.ok(seen.includes('export/empty/'));
  });
});

describe('RemoteStepCache against nginx', { skip: nginxSkipReason() }, () => {
  let nginx: NginxServer;
  let src: string;
  const logs: string[] = [];
  const cache = () =>
    new RemoteStepCache({ url: `${nginx.url}/steps/`, readOnly: false, timeoutMs: 5000, log: (l) => logs.push(l) });
  const warnings = () => logs.filter((l) => l.includes('warning'));
  const onServer = (name: string) => join(nginx.root, 'steps', name);

  /** Uploads the test tree under a new fingerprint. */
  async function uploaded(): Promise<string> {
    const fp = newFingerprint();
    await cache().put(fp, src);
    assert.ok((await lstat(onServer(`${fp}.tar`))).isFile());
    return fp;
  }

  /** `get` must have failed cleanly: false, a warning, no destDir and no temp files next to it. */
  async function assertCleanMiss(fp: string, expectWarning: RegExp | undefined): Promise<void> {
    const parent = fresh('dest');
    const dest = join(parent, fp);
    logs.length = 0;
    assert.equal(await cache().get(fp, dest), false);
    if (expectWarning) assert.match(warnings().join('\n'), expectWarning);
    else assert.deepEqual(warnings(), []);
    assert.deepEqual(await readdir(parent).catch(() => []), [], 'no destDir and no leftovers');
  }

  before(async () => {
    nginx = await NginxServer.start();
    src = fresh('src');
    await makeTree(src);
  });
  after(() => nginx?.stop());

  it('put then get into a fresh dir reproduces the tree', async () => {
    const fp = newFingerprint();
    logs.length = 0;
    await cache().put(fp, src);
    assert.deepEqual(warnings(), []);
    const meta = JSON.parse(await readFile(onServer(`${fp}.json`), 'utf8')) as Record<string, unknown>;
    const tarOnServer = onServer(`${fp}.tar`);
    assert.deepEqual(meta, {
      fingerprint: fp,
      sha256: await sha256File(tarOnServer),
      size: (await lstat(tarOnServer)).size,
      format: 1,
    });
    assert.deepEqual(
      (await nginx.accessLog()).filter((l) => l.startsWith('PUT')),
      [`PUT /steps/${fp}.tar 201`, `PUT /steps/${fp}.json 201`],
      'tar first, metadata second',
    );

    const dest = join(fresh('dest'), 'out');
    assert.equal(await cache().get(fp, dest), true);
    assert.equal(await sha256Tree(dest), await sha256Tree(src));
    assert.equal((await lstat(join(dest, 'rootfs/bin/busybox'))).mode & 0o777, 0o755);
    assert.equal((await lstat(join(dest, 'rootfs/lib/libfoo.so.1'))).mode & 0o111, 0);
    assert.equal(await readlink(join(dest, 'rootfs/sbin/init')), '/bin/busybox');
    assert.equal(await readlink(join(dest, 'rootfs/usr/share/up')), '../../lib/libfoo.so.1');
    assert.equal(await readlink(join(dest, 'rootfs/lib/libfoo.so')), 'libfoo.so.1');
    assert.deepEqual(await readdir(join(dest, 'export/empty')), []);
    assert.deepEqual(warnings(), []);
  });

  it('an empty step output (a layer with no files) round-trips as a hit, not a rebuild', async () => {
    const fp = newFingerprint();
    logs.length = 0;
    const empty = fresh('empty-output');
    await mkdir(empty, { recursive: true });
    await cache().put(fp, empty);
    const dest = join(fresh('dest-empty'), 'out');
    assert.equal(await cache().get(fp, dest), true);
    assert.deepEqual(await readdir(dest), []);
    assert.deepEqual(warnings(), []);
  });

  it('a second upload of the same tree stores identical bytes', async () => {
    const fp = await uploaded();
    const first = await readFile(onServer(`${fp}.tar`));
    await cache().put(fp, src);
    assert.deepEqual(await readFile(onServer(`${fp}.tar`)), first);
  });

  it('a corrupted tar is refused', async () => {
    const fp = await uploaded();
    const buf = await readFile(onServer(`${fp}.tar`));
    buf[Math.floor(buf.length / 2)]! ^= 0xff;
    await writeFile(onServer(`${fp}.tar`), buf);
    await assertCleanMiss(fp, /sha256 .*corrupt/);
  });

  it('a truncated tar is refused', async () => {
    const fp = await uploaded();
    const { size } = await lstat(onServer(`${fp}.tar`));
    await truncate(onServer(`${fp}.tar`), Math.floor(size / 2));
    await assertCleanMiss(fp, new RegExp(`has ${Math.floor(size / 2)} bytes, metadata says ${size}`));
  });

  it('a tar longer than its metadata says is refused without reading it all', async () => {
    const fp = await uploaded();
    await writeFile(
      onServer(`${fp}.tar`),
      Buffer.concat([await readFile(onServer(`${fp}.tar`)), randomBytes(100_000)]),
    );
    await assertCleanMiss(fp, /has more than \d+ bytes/);
  });

  it('missing metadata is a plain miss; missing tar and bad metadata are warnings', async () => {
    const fp = await uploaded();
    await rm(onServer(`${fp}.json`));
    await assertCleanMiss(fp, undefined);
    assert.ok(logs.some((l) => l.includes(`miss ${fp}`)));

    const fp2 = await uploaded();
    await rm(onServer(`${fp2}.tar`));
    await assertCleanMiss(fp2, /HTTP 404/);

    const fp3 = await uploaded();
    await writeFile(onServer(`${fp3}.json`), '{"format": 1, "fingerprint": "nope"');
    await assertCleanMiss(fp3, /not JSON/);

    const fp4 = await uploaded();
    await writeFile(
      onServer(`${fp4}.json`),
      JSON.stringify({ fingerprint: fp, sha256: sha256('x'), size: 3, format: 1 }),
    );
    await assertCleanMiss(fp4, /metadata is for fingerprint/);
  });

  it('refuses an archive that would write outside destDir, even with matching metadata', async () => {
    // Through `..`:
    const evil = fresh('evil');
    await mkdir(join(evil, 'inner'), { recursive: true });
    await writeFile(join(evil, 'escaped'), 'gotcha');
    const fp = newFingerprint();
    const tar1 = fresh('evil1.tar');
    await create({ file: tar1, cwd: join(evil, 'inner'), preservePaths: true, portable: true }, ['../escaped']);
    // Through a symlink to an outside directory:
    const victim = fresh('victim');
    await mkdir(victim);
    await writeFile(join(victim, 'planted'), 'gotcha');
    await symlink(victim, join(evil, 'inner', 'link'));
    const fp2 = newFingerprint();
    const tar2 = fresh('evil2.tar');
    await create({ file: tar2, cwd: join(evil, 'inner'), portable: true, noDirRecurse: true }, [
      'link',
      'link/planted',
    ]);
    await rm(join(victim, 'planted'));

    for (const [f, tar] of [
      [fp, tar1],
      [fp2, tar2],
    ] as const) {
      await mkdir(join(nginx.root, 'steps'), { recursive: true });
      await writeFile(onServer(`${f}.tar`), await readFile(tar));
      const meta = { fingerprint: f, sha256: await sha256File(tar), size: (await lstat(tar)).size, format: 1 };
      await writeFile(onServer(`${f}.json`), JSON.stringify(meta));
      await assertCleanMiss(f, /unsafe archive/);
    }
    assert.deepEqual(await readdir(victim), [], 'nothing written through the symlink');
  });

  it('read-only never uploads', async () => {
    const fp = newFingerprint();
    const requestsBefore = (await nginx.accessLog()).length;
    const ro = new RemoteStepCache({ url: `${nginx.url}/steps`, readOnly: true, log: (l) => logs.push(l) });
    await ro.put(fp, src);
    assert.equal((await nginx.accessLog()).length, requestsBefore, 'no request at all');
    assert.deepEqual(
      (await readdir(join(nginx.root, 'steps')).catch(() => [] as string[])).filter((f) => f.startsWith(fp)),
      [],
    );
    // It still reads.
    const fp2 = await uploaded();
    assert.equal(await ro.get(fp2, join(fresh('dest'), 'out')), true);
  });

  it('throws for caller mistakes only', async () => {
    await assert.rejects(cache().get('not-a-fingerprint', join(fresh('dest'), 'x')), /fingerprint/);
    const existing = fresh('existing');
    await mkdir(existing);
    await assert.rejects(cache().get(newFingerprint(), existing), /already exists/);
  });
});

describe('RemoteStepCache without a server', () => {
  /** A URL on 127.0.0.1 where nothing listens (a port that was just free). */
  async function deadUrl(): Promise<string> {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as AddressInfo;
    await new Promise<void>((r) => s.close(() => r()));
    return `http://127.0.0.1:${port}/cache`;
  }

  it('server down: get is a miss and put is skipped, both with a warning, never a throw', async () => {
    const logs: string[] = [];
    const c = new RemoteStepCache({ url: await deadUrl(), readOnly: false, timeoutMs: 2000, log: (l) => logs.push(l) });
    const src = fresh('src');
    await makeTree(src);
    const parent = fresh('dest');
    assert.equal(await c.get(newFingerprint(), join(parent, 'out')), false);
    assert.match(logs.join('\n'), /warning: .*ECONNREFUSED/);
    logs.length = 0;
    await c.put(newFingerprint(), src);
    assert.match(logs.join('\n'), /warning: .*upload failed: .*ECONNREFUSED/);
    assert.deepEqual(await readdir(parent).catch(() => []), []);
  });

  it('a server that never answers times out into a miss', async () => {
    const fp = newFingerprint();
    const stalled = await TestHttpServer.start({ [`/c/${fp}.json`]: stall() });
    try {
      const logs: string[] = [];
      const c = new RemoteStepCache({
        url: `${stalled.url}/c`,
        readOnly: false,
        timeoutMs: 200,
        log: (l) => logs.push(l),
      });
      const started = Date.now();
      assert.equal(await c.get(fp, join(fresh('dest'), 'out')), false);
      assert.ok(Date.now() - started < 3000);
      assert.match(logs.join('\n'), /warning: .*no progress for 200 ms/);
    } finally {
      await stalled.close();
    }
  });
});
