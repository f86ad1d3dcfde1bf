/**
 * TLS to a server identified by the SHA-256 of its certificate (a "pin"): a node's management port, pinned
 * to the fingerprint the node printed on its console, or the management Redis of outbound mode.
 * The node's certificate is self-signed and made at boot, so no CA vouches for it: the client first
 * fetches it on a probe connection that sends nothing, compares its SHA-256 with the pin (or, with no pin,
 * trusts it on first use and reports it), and then gives every Redis connection that certificate as its
 * only trusted root plus a check of the same fingerprint. OpenSSL therefore refuses any other certificate
 * during the handshake, before the Redis client can write its AUTH: a token never reaches an unpinned peer.
 * A server that presents a chain (a management Redis with its own CA) is trusted through the top of that
 * chain, and its leaf is still checked against the pin.
 */
import { type ConnectionOptions, type DetailedPeerCertificate, type PeerCertificate, connect } from 'node:tls';
import { ZosError, errorMessage } from '../util/errors.js';

/** `sha256:` + the colon-separated hex SHA-256 of the certificate (Node's fingerprint256, upper case). */
export type Fingerprint = string;

const FP_RE = /^sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/** Normalizes a pin as users may type it (case, with or without colons); throws on anything else. */
export function parsePin(pin: string, option = '--pin'): Fingerprint {
  const hex = pin
    .trim()
    .replace(/^sha256:/i, '')
    .replace(/:/g, '')
    .toUpperCase();
  const fp = `sha256:${hex.replace(/(..)(?!$)/g, '$1:')}`;
  if (!FP_RE.test(fp)) {
    throw new ZosError(
      `${option} ${pin}: not a SHA-256 fingerprint`,
      'Copy the "TLS fingerprint sha256:..." line from the node\'s console.',
    );
  }
  return fp;
}

export const fingerprintOf = (cert: PeerCertificate): Fingerprint => `sha256:${cert.fingerprint256}`;

/** Fetches the certificate the node presents, sending no application data. */
export async function probeCertificate(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, rejectUnauthorized: false, timeout: timeoutMs });
    const fail = (err: Error): void => {
      s.destroy();
      reject(err);
    };
    s.once('secureConnect', () => {
      const cert = s.getPeerCertificate(true);
      s.destroy();
      if (!cert?.raw) reject(new Error('the server presented no certificate'));
      else resolve(cert);
    });
    s.once('timeout', () => fail(new Error(`TLS handshake timed out after ${timeoutMs} ms`)));
    s.once('error', fail);
  });
}

export interface PinnedTls {
  fingerprint: Fingerprint;
  /** Subject CN of the certificate: the node's host name (its token audience). */
  node: string;
  /** Options for tls.connect (node-redis `socket` with `tls: true`) accepting only this certificate. */
  options: ConnectionOptions;
}

/**
 * Checks the node's certificate against `pin` (undefined: trust on first use, the caller reports it)
 * and returns connection options pinned to it. A mismatch throws before anything is sent.
 */
export async function pinTls(host: string, port: number, pin: Fingerprint | undefined, timeoutMs: number) {
  let cert: DetailedPeerCertificate;
  try {
    cert = await probeCertificate(host, port, timeoutMs);
  } catch (err) {
    throw new ZosError(`cannot open TLS to ${host}:${port}: ${errorMessage(err)}`);
  }
  const fingerprint = fingerprintOf(cert);
  if (pin !== undefined && fingerprint !== pin) {
    throw new ZosError(
      `${host}:${port} presented TLS certificate ${fingerprint}, not the pinned ${pin}: nothing was sent`,
      'Someone may be between you and the node, or it rebooted (a node makes a new key at every boot): ' +
        "compare with the fingerprint on the node's console.",
    );
  }
  let top = cert;
  for (let i = 0; i < 10 && top.issuerCertificate?.raw && top.issuerCertificate !== top; i++)
    top = top.issuerCertificate;
  const b64 = (top.raw.toString('base64').match(/.{1,64}/g) ?? []).join('\n');
  const pem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  const options: ConnectionOptions = {
    ca: [pem],
    rejectUnauthorized: true,
    checkServerIdentity: (_host, c) =>
      fingerprintOf(c) === fingerprint ? undefined : new Error(`certificate ${fingerprintOf(c)} is not the pinned one`),
  };
  const cn = cert.subject?.CN;
  return { fingerprint, node: Array.isArray(cn) ? (cn[0] ?? '') : (cn ?? ''), options } satisfies PinnedTls;
}
