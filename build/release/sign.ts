/**
 * Signatures made with the operator's GnuPG key: the detached `.sig` files that a verifying netboot
 * GRUB checks, and `SHA256SUMS.asc` of a release. The private key never passes through this code:
 * gpg finds it in its own home (`--gnupg-home`, default gpg's) by the id given; only that id and
 * fingerprints reach logs. GnuPG rather than minisign: GRUB verifies only OpenPGP signatures, so one
 * tool and one kind of key serve both, and gpg/gpgv are on every Debian host.
 */
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NETBOOT_PUBKEY, readNetbootVerifyKey, sigName } from '../artifacts/netboot-verify.js';
import { ZosError } from '../util/errors.js';
import { exists } from '../util/fs.js';

const execFileP = promisify(execFile);

export interface GpgSigner {
  /** Anything gpg's --local-user takes: fingerprint (best), key id or user id. */
  key: string;
  /** GNUPGHOME holding the secret key (default: gpg's own). */
  gnupgHome?: string;
  /** File holding the key's passphrase (gpg --pinentry-mode loopback --passphrase-file). */
  passphraseFile?: string;
}

/** Writes a detached signature of `file` to `out`: binary (GRUB reads only that) or armored. */
export async function gpgDetachSign(file: string, out: string, signer: GpgSigner, armor = false): Promise<void> {
  const args = ['--batch', '--yes', '--no-tty', '--local-user', signer.key, '--digest-algo', 'SHA256'];
  if (signer.gnupgHome) args.push('--homedir', signer.gnupgHome);
  if (signer.passphraseFile) args.push('--pinentry-mode', 'loopback', '--passphrase-file', signer.passphraseFile);
  args.push(...(armor ? ['--armor'] : []), '--output', out, '--detach-sign', file);
  try {
    await execFileP('gpg', args, { env: { ...process.env, LC_ALL: 'C' } });
  } catch (err) {
    await rm(out, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new ZosError('gpg is not installed', 'apt-get install gpg (or bash ci/install-host-deps)');
    throw new ZosError(
      `gpg could not sign ${file} with key ${signer.key}${signer.gnupgHome ? ` (home ${signer.gnupgHome})` : ''}: ${(e.stderr ?? e.message).trim()}`,
      'Check the key id (gpg --list-secret-keys) and, for a key with a passphrase, --gpg-passphrase-file.',
    );
  }
}

/**
 * Checks `sig` over `file` against exactly the keys in `keyring` (binary `gpg --export` output) with
 * gpgv, which trusts nothing else. Returns the primary-key fingerprint that made the signature.
 */
export async function gpgvVerify(keyring: string, sig: string, file: string): Promise<string> {
  try {
    const { stdout } = await execFileP('gpgv', ['--status-fd', '1', '--keyring', keyring, sig, file], {
      env: { ...process.env, LC_ALL: 'C' },
    });
    const m = /^\[GNUPG:\] VALIDSIG .* ([0-9A-F]{40})$/m.exec(stdout);
    if (!m) throw new Error(`no VALIDSIG in gpgv's status:\n${stdout}`);
    return m[1]!;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new ZosError(
      `${sig} is not a good signature of ${file} by the key in ${keyring}: ${(e.stderr || e.message).trim()}`,
    );
  }
}

/** Files of a netboot/ folder that GRUB fetches, hence needs signatures of: the kernel and the initramfs. */
export async function netbootSignedFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  const files = names.filter((n) => n === 'vmlinuz' || /^initramfs\.cpio(\.[a-z0-9]+)?$/.test(n));
  if (!files.includes('vmlinuz') || files.length !== 2)
    throw new ZosError(
      `${dir} is not a netboot folder: it needs vmlinuz and one initramfs.cpio.* (found ${files.join(', ') || 'neither'})`,
    );
  return files.sort();
}

/**
 * Signs the kernel and initramfs of a netboot folder built with --netboot-verify-key: writes
 * `<file>.sig` next to each, then checks each signature with gpgv against the key the folder's GRUB
 * embeds (`zos-net.pub`), so signing with any other key fails here rather than on every node.
 * Returns the signature files written (names relative to `dir`).
 */
export async function signNetboot(dir: string, signer: GpgSigner): Promise<string[]> {
  const pub = join(dir, NETBOOT_PUBKEY);
  if (!(await exists(pub)))
    throw new ZosError(
      `${dir} was built without a netboot verification key (no ${NETBOOT_PUBKEY}): its GRUB checks nothing`,
      'Build with --netboot-verify-key FILE (the public half of the signing key), then sign.',
    );
  const expected = (await readNetbootVerifyKey(pub)).fingerprint;
  const written: string[] = [];
  for (const f of await netbootSignedFiles(dir)) {
    const sig = join(dir, sigName(f));
    await gpgDetachSign(join(dir, f), sig, signer);
    let by: string;
    try {
      by = await gpgvVerify(pub, sig, join(dir, f));
    } catch (err) {
      await rm(sig, { force: true });
      throw new ZosError(
        `key ${signer.key} is not the key the netboot GRUB embeds (${expected}): ${(err as Error).message}`,
        `Sign with the secret half of ${expected}, or rebuild with --netboot-verify-key set to the signing key's public half.`,
      );
    }
    if (by !== expected) throw new ZosError(`${sig}: made by ${by}, expected ${expected}`);
    written.push(sigName(f));
  }
  return written;
}
