/**
 * The Secure Boot signer: bad key/certificate combinations are refused before a build starts, with
 * a message naming the option; a good pair signs a real PE image that sbverify accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { archFacts } from '../../build/arch.js';
import { loadEfiSigner } from '../../build/sign/efi-signer.js';
import { StepLog } from '../../build/util/exec.js';
import { ZosError } from '../../build/util/errors.js';

const run = promisify(execFile);

async function keyPair(dir: string, name: string, extra: string[] = []): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  await run('openssl', [
    'req',
    '-new',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-sha256',
    '-days',
    '30',
    '-subj',
    `/CN=zos test ${name}/`,
    '-keyout',
    key,
    '-out',
    cert,
    ...(extra.length ? extra : ['-nodes']),
  ]);
  return { key, cert };
}

describe('EFI signer (--sign-key / --sign-cert)', () => {
  let dir: string;
  let a: { key: string; cert: string };
  let b: { key: string; cert: string };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zos-efi-signer-'));
    a = await keyPair(dir, 'a');
    b = await keyPair(dir, 'b');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is off when neither option is given', async () => {
    assert.equal(await loadEfiSigner({}), undefined);
  });

  it('refuses one option without the other', async () => {
    await assert.rejects(loadEfiSigner({ key: a.key }), /--sign-key was given without --sign-cert/);
    await assert.rejects(loadEfiSigner({ cert: a.cert }), /--sign-cert was given without --sign-key/);
  });

  it('refuses a key that does not belong to the certificate, naming both files', async () => {
    await assert.rejects(loadEfiSigner({ key: b.key, cert: a.cert }), (err: Error) => {
      assert.ok(err instanceof ZosError);
      assert.match(err.message, /b\.key is not the private key of --sign-cert .*a\.crt/);
      return true;
    });
  });

  it('refuses a passphrase-protected key with a hint', async () => {
    const enc = await keyPair(dir, 'enc', ['-passout', 'pass:secret']);
    await assert.rejects(loadEfiSigner(enc), /protected by a passphrase/);
  });

  it('refuses a missing file and a certificate that is not one', async () => {
    await assert.rejects(loadEfiSigner({ key: a.key, cert: join(dir, 'nope.crt') }), /--sign-cert .*nope\.crt: ENOENT/);
    await assert.rejects(loadEfiSigner({ key: a.key, cert: a.key }), /not an X\.509 certificate/);
  });

  it('signs a PE image in place; sbverify accepts it with the certificate and not with another', async () => {
    const signer = (await loadEfiSigner(a))!;
    assert.match(signer.certSha256, /^[0-9a-f]{64}$/);
    const pe = join(dir, 'stub.efi');
    await copyFile(archFacts().efiStub, pe);
    const log = await StepLog.create(join(dir, 'sign.log'));
    try {
      await signer.sign(pe, log);
    } finally {
      log.close();
    }
    const ok = await run('sbverify', ['--cert', a.cert, pe]);
    assert.match(`${ok.stdout}${ok.stderr}`, /Signature verification OK/);
    await assert.rejects(run('sbverify', ['--cert', b.cert, pe]));
    // The log names the key file, never its contents.
    const logText = await readFile(join(dir, 'sign.log'), 'utf8');
    const keyBody = (await readFile(a.key, 'utf8')).split('\n')[12]!;
    assert.ok(!logText.includes(keyBody), 'the key is in the step log');
  });
});
