/**
 * Signed releases and netboot signatures, with a throwaway GnuPG key made by the test (real gpg,
 * gpgv and sha256sum): the documented verification passes on a fresh release and fails after a
 * one-byte change of an artifact or of SHA256SUMS; the netboot kernel and initramfs of a build with
 * a verification key are signed by that key only; keys GRUB 2.06 cannot use are refused at build time.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readNetbootVerifyKey } from '../../build/artifacts/netboot-verify.js';
import type { Manifest } from '../../build/publish/out-dir.js';
import { parseSha256Sums } from '../../build/release/checksums.js';
import { assembleRelease } from '../../build/release/release.js';
import { gpgvVerify, signNetboot } from '../../build/release/sign.js';
import { ZosError } from '../../build/util/errors.js';
import { sha256File } from '../../build/util/hash.js';
import { sampleManifest } from '../fixtures/spdx/sample-manifest.js';
import { gpg, makeTestKey, type TestKey } from '../helpers/gpg.js';

const scratch = await mkdtemp(join(tmpdir(), 'zos-release-sign-test-'));
after(() => rm(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = async (name: string) => {
  const d = join(scratch, `${++n}-${name}`);
  await mkdir(d, { recursive: true });
  return d;
};

/** The exact command docs/release.md and README give users, run with `home` as the user's keyring. */
function userVerifies(dir: string, home: string) {
  return spawnSync('bash', ['-c', 'gpg --verify SHA256SUMS.asc SHA256SUMS && sha256sum -c SHA256SUMS'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GNUPGHOME: home, LC_ALL: 'C' },
  });
}

function flipByte(file: string, at = 0): void {
  const b = readFileSync(file);
  b.writeUInt8(b.readUInt8(at) ^ 0x01, at);
  writeFileSync(file, b);
}

/** out/<profile>/ for a manifest: the given file contents, their sizes and sha256s, a license per recipe. */
async function fakeOut(files: Record<string, string | Buffer>): Promise<{ out: string; manifest: Manifest }> {
  const out = await fresh('out');
  const manifest = sampleManifest({ artifacts: [] });
  for (const [file, data] of Object.entries(files)) {
    await mkdir(join(out, file, '..'), { recursive: true });
    await writeFile(join(out, file), data);
    manifest.artifacts.push({ file, size: Buffer.byteLength(data), sha256: await sha256File(join(out, file)) });
  }
  for (const r of manifest.recipes) {
    await mkdir(join(out, 'legal', r.name), { recursive: true });
    await writeFile(join(out, 'legal', r.name, 'COPYING'), `${r.license}\n`);
  }
  await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest));
  return { out, manifest };
}

describe('signed releases', () => {
  let key: TestKey;
  let other: TestKey;
  before(async () => {
    key = await makeTestKey(await fresh('key'));
    other = await makeTestKey(await fresh('other-key'), 'rsa2048', 'someone else <x@zos.invalid>');
  });

  test('SHA256SUMS.asc verifies, SHA256SUMS covers SBOM and manifest; one changed byte anywhere fails', async () => {
    const { out, manifest } = await fakeOut({ 'zos.efi': 'efi bytes', 'initramfs.cpio.xz': 'initramfs' });
    const dest = await fresh('release');
    const r = await assembleRelease({
      manifest,
      outDir: out,
      dest,
      signer: { key: key.fingerprint, gnupgHome: key.home },
    });
    assert.ok(r.files.includes('SHA256SUMS.asc'));
    const listed = parseSha256Sums(await readFile(join(dest, 'SHA256SUMS'), 'utf8')).map((e) => e.file);
    for (const f of ['zos-1.2.3-qemu.spdx.json', 'zos-1.2.3-qemu.manifest.json', 'zos-1.2.3-qemu.efi'])
      assert.ok(listed.includes(f), `SHA256SUMS does not list ${f}`);
    assert.ok(!listed.includes('SHA256SUMS.asc'));
    assert.match(await readFile(join(dest, 'SHA256SUMS.asc'), 'utf8'), /^-----BEGIN PGP SIGNATURE-----/);
    assert.equal(
      await gpgvVerify(key.publicKey, join(dest, 'SHA256SUMS.asc'), join(dest, 'SHA256SUMS')),
      key.fingerprint,
    );

    const ok = userVerifies(dest, key.home);
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    assert.match(ok.stderr, /Good signature/);

    flipByte(join(dest, 'zos-1.2.3-qemu.spdx.json'), 10);
    const art = userVerifies(dest, key.home);
    assert.notEqual(art.status, 0);
    assert.match(art.stdout, /zos-1\.2\.3-qemu\.spdx\.json: FAILED/);
    flipByte(join(dest, 'zos-1.2.3-qemu.spdx.json'), 10);
    assert.equal(userVerifies(dest, key.home).status, 0);

    flipByte(join(dest, 'SHA256SUMS'), 3);
    const sums = userVerifies(dest, key.home);
    assert.notEqual(sums.status, 0);
    assert.match(sums.stderr, /BAD signature/);
  });

  test('a release made without a key has no stale SHA256SUMS.asc; adding a profile re-signs', async () => {
    const a = await fakeOut({ 'zos.efi': 'a' });
    const dest = await fresh('resign');
    const signer = { key: key.fingerprint, gnupgHome: key.home };
    await assembleRelease({ manifest: a.manifest, outDir: a.out, dest, signer });
    const b = await fakeOut({ 'zos.efi': 'b' });
    b.manifest.profile = 'generic';
    await assembleRelease({ manifest: b.manifest, outDir: b.out, dest, signer });
    assert.equal(userVerifies(dest, key.home).status, 0);
    await assembleRelease({ manifest: b.manifest, outDir: b.out, dest });
    assert.equal(spawnSync('test', ['-e', join(dest, 'SHA256SUMS.asc')]).status, 1);
  });

  test('netboot built with a verification key: release signs vmlinuz and initramfs with that key only', async () => {
    const pub = await readFile(key.publicKey);
    const netboot = {
      'netboot/vmlinuz': 'kernel',
      'netboot/initramfs.cpio.xz': 'initramfs',
      'netboot/zos-net.pub': pub,
    };
    const { out, manifest } = await fakeOut(netboot);
    await assert.rejects(assembleRelease({ manifest, outDir: out, dest: await fresh('nosig') }), (e: Error) => {
      assert.ok(e instanceof ZosError);
      assert.match(e.message, /built with a netboot verification key/);
      return true;
    });
    await assert.rejects(
      assembleRelease({
        manifest,
        outDir: out,
        dest: await fresh('wrong'),
        signer: { key: other.fingerprint, gnupgHome: other.home },
      }),
      new RegExp(`is not the key the netboot GRUB embeds \\(${key.fingerprint}\\)`),
    );
    const dest = await fresh('signed-netboot');
    const signer = { key: key.fingerprint, gnupgHome: key.home };
    const r = await assembleRelease({ manifest, outDir: out, dest, signer });
    const dir = join(dest, 'zos-1.2.3-qemu-netboot');
    for (const f of ['vmlinuz', 'initramfs.cpio.xz']) {
      assert.ok(r.files.includes(`zos-1.2.3-qemu-netboot/${f}.sig`));
      assert.equal(await gpgvVerify(key.publicKey, join(dir, `${f}.sig`), join(dir, f)), key.fingerprint);
    }
    // GRUB reads binary signatures only.
    assert.doesNotMatch(await readFile(join(dir, 'vmlinuz.sig'), 'latin1'), /BEGIN PGP/);
    const tar = execFileSync('tar', ['-tzf', join(dest, 'zos-1.2.3-qemu-netboot.tar.gz')], { encoding: 'utf8' });
    assert.match(tar, /zos-1\.2\.3-qemu-netboot\/initramfs\.cpio\.xz\.sig$/m);
    assert.equal(userVerifies(dest, key.home).status, 0);
    flipByte(join(dir, 'initramfs.cpio.xz'));
    await assert.rejects(gpgvVerify(key.publicKey, join(dir, 'initramfs.cpio.xz.sig'), join(dir, 'initramfs.cpio.xz')));
  });

  test('signNetboot refuses a folder built without a key', async () => {
    const dir = await fresh('plain-netboot');
    await writeFile(join(dir, 'vmlinuz'), 'k');
    await writeFile(join(dir, 'initramfs.cpio.zst'), 'i');
    await assert.rejects(
      signNetboot(dir, { key: key.fingerprint, gnupgHome: key.home }),
      /built without a netboot verification key/,
    );
  });

  test('the netboot key: armored or binary, same fingerprint as gpg; private, Ed25519 and two keys refused', async () => {
    const bin = await readNetbootVerifyKey(key.publicKey);
    assert.equal(bin.fingerprint, key.fingerprint);
    const armoredFile = join(scratch, 'armored.asc');
    await writeFile(armoredFile, await gpg(key.home, ['--armor', '--export', key.fingerprint]));
    const arm = await readNetbootVerifyKey(armoredFile);
    assert.equal(arm.fingerprint, key.fingerprint);
    assert.deepEqual(arm.key, bin.key);

    const ed = await makeTestKey(await fresh('ed25519'), 'ed25519', 'ed <ed@zos.invalid>');
    await assert.rejects(readNetbootVerifyKey(ed.publicKey), (e: Error) => {
      assert.match(e.message, /EdDSA.*GRUB 2\.06 verifies only RSA and DSA/);
      assert.match((e as ZosError).hint ?? '', /rsa4096 sign never/);
      return true;
    });

    const secret = join(scratch, 'secret.asc');
    await writeFile(secret, await gpg(key.home, ['--armor', '--export-secret-keys', key.fingerprint]));
    await assert.rejects(readNetbootVerifyKey(secret), /is a PRIVATE key/);

    const two = join(scratch, 'two.pub');
    await writeFile(two, Buffer.concat([await readFile(key.publicKey), await readFile(other.publicKey)]));
    await assert.rejects(readNetbootVerifyKey(two), /holds 2 public keys/);
    await assert.rejects(readNetbootVerifyKey(join(scratch, 'missing.pub')), /cannot read it \(ENOENT\)/);
  });
});
