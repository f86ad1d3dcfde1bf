/**
 * Operator keys: Ed25519 key pairs whose public half a node is given (kernel command line `zos.keys=`,
 * profile `agent.operatorKeys`, `operator_keys=` in /etc/zos/core0.conf) and whose private half signs the
 * tokens clients present as their AUTH password. Text form of a public key: `ed25519:` + the 32 key bytes
 * in unpadded base64url (the JWK `x` member), as core0's agent/internal/gate/keys.go reads it.
 */
import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ZosError, errorMessage } from '../util/errors.js';

export const KEY_PREFIX = 'ed25519:';

const KEY_RE = /^ed25519:[A-Za-z0-9_-]{43}$/;

/** Why `s` is not an operator public key, or undefined when it is one. */
export function publicKeyProblem(s: string): string | undefined {
  if (!s.startsWith(KEY_PREFIX)) return `must start with "${KEY_PREFIX}"`;
  if (!KEY_RE.test(s)) return 'must be "ed25519:" and 43 base64url characters (32 bytes, no padding)';
  try {
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: s.slice(KEY_PREFIX.length) }, format: 'jwk' });
  } catch (err) {
    return `not an Ed25519 public key: ${errorMessage(err)}`;
  }
  return undefined;
}

/** The text form of the public half of `key` (a private or public Ed25519 KeyObject). */
export function publicKeyString(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new ZosError('not an Ed25519 key');
  return KEY_PREFIX + jwk.x;
}

/** Reads an Ed25519 private key in PEM (PKCS#8, as `openssl genpkey -algorithm ed25519` writes it). */
export async function loadPrivateKey(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw new ZosError(`cannot read operator key ${file}: ${errorMessage(err)}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new ZosError(
      `${file}: not a PEM private key: ${errorMessage(err)}`,
      'Create one with `zos-build agent keygen --out FILE` or `openssl genpkey -algorithm ed25519 -out FILE`.',
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ZosError(`${file}: a ${key.asymmetricKeyType} key; operator keys are Ed25519`);
  }
  return key;
}

/** Writes a new private key (PEM PKCS#8, mode 0600, never over an existing file); returns its public string. */
export async function generateKeyFile(file: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  try {
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new ZosError(`cannot write ${file}: ${errorMessage(err)}`, 'keygen never overwrites a file.');
  }
  return publicKeyString(privateKey);
}
