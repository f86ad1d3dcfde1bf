/**
 * UEFI Secure Boot signing of the EFI binaries a firmware loads (sbsigntool's sbsign).
 *
 * The private key is only ever read by sbsign, from the file the operator names: its path is given
 * to the command, its contents never pass through this process, a fingerprint, the step cache, the
 * manifest or a log. What identifies a signed build is the certificate's sha256 (public), which the
 * artifact steps put in their fingerprints: signed and unsigned outputs are cached apart.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { StepLog } from '../util/exec.js';
import { ZosError } from '../util/errors.js';

export interface EfiSigner {
  /** sha256 of the certificate's DER bytes: the only part of signing that enters a fingerprint. */
  readonly certSha256: string;
  /** The certificate's subject, for messages. */
  readonly subject: string;
  /** Signs the PE image `file` in place (sbsign writes to a temp sibling, renamed over it). */
  sign(file: string, log: StepLog): Promise<void>;
}

export interface SigningPaths {
  key: string;
  cert: string;
}

const OPTION_HINT = 'Give both --sign-key FILE and --sign-cert FILE (or env ZOS_SIGN_KEY and ZOS_SIGN_CERT).';

async function readOrExplain(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ZosError(
      `${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      OPTION_HINT,
    );
  }
}

/**
 * Checks the key and certificate once, before anything builds: both readable PEM, the key not
 * passphrase-protected (sbsign would prompt on a terminal the build does not have), and the key
 * the one the certificate was issued for (else every signature would be refused by the firmware).
 */
export async function loadEfiSigner(paths: Partial<SigningPaths>): Promise<EfiSigner | undefined> {
  if (!paths.key && !paths.cert) return undefined;
  if (!paths.key || !paths.cert) {
    throw new ZosError(
      paths.key ? '--sign-key was given without --sign-cert' : '--sign-cert was given without --sign-key',
      OPTION_HINT,
    );
  }
  const keyPath = resolve(paths.key);
  const certPath = resolve(paths.cert);
  const certPem = await readOrExplain(certPath, '--sign-cert');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new ZosError(
      `--sign-cert ${certPath}: not an X.509 certificate (${(err as Error).message})`,
      'sbsign needs a PEM certificate, e.g. from `openssl req -new -x509 ... -out db.crt` (docs/secure-boot.md).',
    );
  }
  const keyPem = await readOrExplain(keyPath, '--sign-key');
  if (/-----BEGIN (ENCRYPTED|.* ENCRYPTED) PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem.toString('latin1'))) {
    throw new ZosError(
      `--sign-key ${keyPath}: the private key is protected by a passphrase`,
      'The build cannot answer a prompt: decrypt it into a file only the build user can read, e.g. ' +
        '`openssl pkey -in key.pem -out db.key` (keep it off shared disks), or sign on a dedicated machine.',
    );
  }
  let matches: boolean;
  try {
    const derived = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    matches = derived.equals(cert.publicKey.export({ type: 'spki', format: 'der' }));
  } catch (err) {
    throw new ZosError(`--sign-key ${keyPath}: not a PEM private key (${(err as Error).message})`, OPTION_HINT);
  }
  if (!matches) {
    throw new ZosError(
      `--sign-key ${keyPath} is not the private key of --sign-cert ${certPath} (${cert.subject.replace(/\n/g, ', ')})`,
      'Pass the key the certificate was made from.',
    );
  }
  const certSha256 = createHash('sha256').update(cert.raw).digest('hex');
  return {
    certSha256,
    subject: cert.subject.replace(/\n/g, ', '),
    async sign(file, log) {
      const tmp = join(dirname(file), `.${basename(file)}.signing`);
      await rm(tmp, { force: true });
      try {
        await log.run('sbsign', ['--key', keyPath, '--cert', certPath, '--output', tmp, file]);
        await rename(tmp, file);
      } finally {
        await rm(tmp, { force: true });
      }
    },
  };
}
