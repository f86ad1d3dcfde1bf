/**
 * Verified network boot: the OpenPGP public key that GRUB (zos-net.efi, the UEFI side of
 * usb-netboot.img) embeds, and what GRUB then needs to refuse an unsigned or tampered kernel or
 * initramfs. Only public material lives here: the private key stays with whoever signs
 * (`zos-build sign-netboot`, `zos-build release --netboot-gpg-key`; build/release/sign.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ZosError } from '../util/errors.js';

/** The key GRUB embeds, as GRUB reads it (binary OpenPGP, not armored). */
export interface NetbootVerifyKey {
  /** Where it was read from (for messages). */
  file: string;
  /** Binary OpenPGP transferable public key. */
  key: Buffer;
  /** v4 fingerprint of the primary key, upper-case hex (as gpg prints it). */
  fingerprint: string;
}

/** The public key, as embedded, published next to the netboot files (`gpg --import` it to check by hand). */
export const NETBOOT_PUBKEY = 'zos-net.pub';

/** Detached signature of a file that GRUB fetches, as GRUB looks for it: `<file>.sig`, binary. */
export const sigName = (file: string): string => `${file}.sig`;

/**
 * GRUB modules that check signatures: pgp (the verifier, `check_signatures`), RSA and DSA (the
 * public-key algorithms GRUB 2.06 implements; it has no EdDSA/ECDSA) and the digests gpg signs with.
 * Embedded, because with enforcement on GRUB could not load a module from anywhere unsigned.
 */
export const GRUB_VERIFY_MODULES = ['pgp', 'gcry_rsa', 'gcry_dsa', 'gcry_sha256', 'gcry_sha512'];

/**
 * Early config of a GRUB image with an embedded key. An embedded key makes GRUB start with
 * `check_signatures=enforce`, which would also demand a signature for the grub.cfg in the image's
 * own memdisk (signable only with the private key, which the build never has). That grub.cfg is
 * part of the image, as trusted as the image itself (and covered by its Secure Boot signature), so
 * enforcement is paused while GRUB reads it and turned back on by its first command (grubVerifyCfg),
 * before anything is fetched.
 */
export const GRUB_VERIFY_EARLY_CONFIG = 'set check_signatures=no\n';

/** First lines of the memdisk grub.cfg of a verifying GRUB. */
export function grubVerifyCfg(key: Pick<NetbootVerifyKey, 'fingerprint'>): string {
  return [
    `# Verified boot: every file loaded from here on needs <file>.sig made by key ${key.fingerprint}.`,
    'set check_signatures=enforce',
    `echo "zos: signature checking on (key ${key.fingerprint})"`,
    '',
  ].join('\n');
}

/** OpenPGP public-key algorithm ids (RFC 4880 9.1, RFC 6637, RFC 9580). */
const PK_ALGOS: Record<number, string> = {
  1: 'RSA',
  2: 'RSA (encrypt only)',
  3: 'RSA (sign only)',
  16: 'Elgamal',
  17: 'DSA',
  18: 'ECDH',
  19: 'ECDSA',
  22: 'EdDSA (e.g. Ed25519)',
  27: 'Ed25519',
};
const GRUB_ALGOS = new Set([1, 3, 17]);

interface Packet {
  tag: number;
  body: Buffer;
}

/** Splits binary OpenPGP data into packets (old and new formats). Throws on truncation. */
function packets(data: Buffer, file: string): Packet[] {
  const out: Packet[] = [];
  let i = 0;
  const bad = (why: string) =>
    new ZosError(
      `--netboot-verify-key ${file}: not an OpenPGP public key (${why})`,
      'Export it with: gpg --export KEYID > netboot.pub',
    );
  while (i < data.length) {
    const h = data[i++]!;
    if ((h & 0x80) === 0) throw bad(`byte ${i - 1} is not a packet header`);
    let tag: number;
    let len: number;
    if (h & 0x40) {
      tag = h & 0x3f;
      const o = data[i++];
      if (o === undefined) throw bad('truncated');
      if (o < 192) len = o;
      else if (o < 224) len = ((o - 192) << 8) + (data[i++] ?? 0) + 192;
      else if (o === 255) {
        len = data.readUInt32BE(i);
        i += 4;
      } else throw bad('partial-length packets');
    } else {
      tag = (h >> 2) & 0x0f;
      const lt = h & 3;
      if (lt === 3) throw bad('indeterminate-length packet');
      const n = [1, 2, 4][lt]!;
      if (i + n > data.length) throw bad('truncated');
      len = n === 1 ? data[i]! : n === 2 ? data.readUInt16BE(i) : data.readUInt32BE(i);
      i += n;
    }
    if (i + len > data.length) throw bad('truncated');
    out.push({ tag, body: data.subarray(i, i + len) });
    i += len;
  }
  return out;
}

/** ASCII armor to binary (the CRC line and headers are skipped; base64 is checked by the parse). */
function dearmor(text: string): Buffer {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^-----BEGIN PGP [A-Z ]+-----$/.test(l));
  const end = lines.findIndex((l, n) => n > start && /^-----END PGP [A-Z ]+-----$/.test(l));
  let body = lines.slice(start + 1, end);
  const blank = body.findIndex((l) => l.trim() === '');
  if (blank >= 0) body = body.slice(blank + 1);
  return Buffer.from(
    body
      .filter((l) => !l.startsWith('='))
      .join('')
      .trim(),
    'base64',
  );
}

/** v4 fingerprint: SHA-1 over 0x99, the 2-byte body length and the key packet body. */
function v4Fingerprint(body: Buffer): string {
  const head = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
  return createHash('sha1').update(head).update(body).digest('hex').toUpperCase();
}

/**
 * Reads and checks the key GRUB will embed: exactly one OpenPGP public key (armored or binary),
 * version 4, whose primary key and every subkey use an algorithm GRUB 2.06 verifies (RSA or DSA):
 * gpg signs with a signing subkey when there is one, and an Ed25519 signature would be refused at
 * boot, on every node. The error says how to make a key that works.
 */
export async function readNetbootVerifyKey(file: string): Promise<NetbootVerifyKey> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    throw new ZosError(`--netboot-verify-key ${file}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  const armored = raw.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP');
  if (armored && raw.toString('latin1').includes('-----BEGIN PGP PRIVATE KEY BLOCK-----'))
    throw new ZosError(
      `--netboot-verify-key ${file} is a PRIVATE key; the build needs only the public key`,
      'Export the public key (gpg --export KEYID > netboot.pub) and keep the private key off the build machine.',
    );
  const key = armored ? dearmor(raw.toString('latin1')) : raw;
  const all = packets(key, file);
  if (all.some((p) => p.tag === 5 || p.tag === 7))
    throw new ZosError(
      `--netboot-verify-key ${file} holds a PRIVATE key; the build needs only the public key`,
      'Export the public key (gpg --export KEYID > netboot.pub) and keep the private key off the build machine.',
    );
  const primaries = all.filter((p) => p.tag === 6);
  if (primaries.length !== 1)
    throw new ZosError(
      `--netboot-verify-key ${file} holds ${primaries.length} public keys; GRUB is given exactly one`,
      'Export one key: gpg --export KEYID > netboot.pub',
    );
  for (const p of all.filter((q) => q.tag === 6 || q.tag === 14)) {
    const version = p.body[0];
    if (version !== 4)
      throw new ZosError(`--netboot-verify-key ${file}: OpenPGP v${version} key; GRUB 2.06 reads only v4 keys`);
    const algo = p.body[5]!;
    if (!GRUB_ALGOS.has(algo)) {
      const what = p.tag === 6 ? 'primary key' : 'a subkey';
      throw new ZosError(
        `--netboot-verify-key ${file}: ${what} is ${PK_ALGOS[algo] ?? `algorithm ${algo}`}; GRUB 2.06 verifies only RSA and DSA signatures`,
        "Make a signing-only RSA key: gpg --quick-gen-key 'zos netboot <ops@example.org>' rsa4096 sign never",
      );
    }
  }
  return { file, key, fingerprint: v4Fingerprint(primaries[0]!.body) };
}
