/** A throwaway GnuPG key for tests: its own GNUPGHOME in a temp dir, no passphrase, never the user's keys. */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestKey {
  /** GNUPGHOME holding the secret key. */
  home: string;
  /** Primary key fingerprint (upper-case hex). */
  fingerprint: string;
  /** `gpg --export` of the public key (binary). */
  publicKey: string;
}

/** Runs gpg on the test home only (LC_ALL=C: status lines and messages are stable). */
export async function gpg(home: string, args: string[]): Promise<string> {
  const { stdout } = await run('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], {
    env: { ...process.env, LC_ALL: 'C' },
    encoding: 'utf8',
  });
  return stdout;
}

/**
 * Makes a signing-only key (`algo` as gpg --quick-gen-key takes it: rsa2048 is quick to generate,
 * ed25519 is what GRUB 2.06 cannot verify) in `<dir>/gnupg` and exports its public half.
 */
export async function makeTestKey(
  dir: string,
  algo = 'rsa2048',
  uid = 'zos test key <test@zos.invalid>',
): Promise<TestKey> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  await gpg(home, ['--passphrase', '', '--quick-gen-key', uid, algo, 'sign', 'never']);
  const colons = await gpg(home, ['--with-colons', '--list-secret-keys', uid]);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1];
  if (!fingerprint) throw new Error(`no fingerprint in gpg's listing:\n${colons}`);
  const publicKey = join(dir, `${algo}.pub`);
  const { stdout } = await run('gpg', ['--homedir', home, '--batch', '--export', fingerprint], {
    encoding: 'buffer',
    maxBuffer: 1 << 20,
  });
  await writeFile(publicKey, stdout);
  return { home, fingerprint, publicKey };
}
