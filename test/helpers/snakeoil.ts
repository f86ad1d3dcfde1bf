/**
 * Debian's ovmf package ships a test Secure Boot key pair ("snakeoil", passphrase "snakeoil") whose
 * certificate is enrolled (PK, KEK, db) in OVMF_VARS_4M.snakeoil.fd: the suite signs with it and boots
 * under that firmware. A test key, public by design; never for real machines.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { archFacts } from '../../build/arch.js';

export const SNAKEOIL_KEY = '/usr/share/ovmf/PkKek-1-snakeoil.key';
export const SNAKEOIL_CERT = '/usr/share/ovmf/PkKek-1-snakeoil.pem';
/** The harness' secureBoot option: the VARS with the snakeoil certificate enrolled. */
export const SECURE = { vars: archFacts().uefi.snakeoilVars };

/** The snakeoil key without its passphrase (the build refuses keys it would have to prompt for), in `dir`. */
export async function decryptedSnakeoilKey(dir: string): Promise<string> {
  const key = join(dir, 'snakeoil.key');
  const pem = createPrivateKey({ key: await readFile(SNAKEOIL_KEY), passphrase: 'snakeoil' }).export({
    type: 'pkcs8',
    format: 'pem',
  });
  await writeFile(key, pem, { mode: 0o600 });
  return key;
}
