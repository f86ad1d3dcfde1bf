/**
 * TLS to a server identified by the SHA-256 of its certificate (a "pin", `sha256:<hex>`) instead of a CA
 * and host name: the management Redis of outbound mode (docs/protocol.md). A first handshake reads the
 * certificate chain without trusting it and checks the pin before any credential is sent; the returned
 * options make the real connection trust the top of that chain and check the leaf against the pin again,
 * so a server that changed certificate in between is refused too.
 */
import { createHash } from 'node:crypto';
import { connect, type ConnectionOptions, type DetailedPeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import { ZosError } from '../util/errors.js';

/** `sha256:<64 hex>` (colons allowed, any case) → lowercase hex; throws ZosError naming `option`. */
export function parsePin(pin: string, option = '--pin'): string {
  const m = /^sha256:((?:[0-9a-f]{2}:?){32})$/i.exec(pin.trim());
  const hex = m?.[1]?.replace(/:/g, '').toLowerCase();
  if (hex?.length !== 64) {
    throw new ZosError(
      `${option} ${JSON.stringify(pin)}: expected sha256: and 64 hex digits`,
      'The pin is the SHA-256 of the server certificate: openssl x509 -in CERT -noout -fingerprint -sha256',
    );
  }
  return hex;
}

/** The pin of a DER certificate, as `sha256:<hex>`. */
export function fingerprint(der: Buffer): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

/** Reads the certificate chain host:port presents, trusting nothing (no credential is sent). */
function peerChain(host: string, port: number, timeoutMs: number): Promise<DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, rejectUnauthorized: false, servername: isIP(host) ? undefined : host }, () => {
      const cert = s.getPeerCertificate(true);
      s.end(); // close_notify: the server logs no "unexpected eof"
      resolve(cert);
    });
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
    s.on('error', reject);
  });
}

/** TLS options for node-redis (`socket: { tls: true, ...opts }`) that accept only the pinned certificate. */
export async function pinnedTls(host: string, port: number, pin: string, timeoutMs = 5000): Promise<ConnectionOptions> {
  const want = `sha256:${parsePin(pin)}`;
  let leaf: DetailedPeerCertificate;
  try {
    leaf = await peerChain(host, port, timeoutMs);
  } catch (err) {
    throw new ZosError(`cannot open TLS to ${host}:${port}: ${(err as Error).message}`);
  }
  if (!leaf.raw) throw new ZosError(`${host}:${port} presented no certificate`);
  const got = fingerprint(leaf.raw);
  if (got !== want) {
    throw new ZosError(
      `${host}:${port} presents certificate ${got}, not the pinned ${want}: refusing to send credentials`,
      'Check --pin against the certificate the server really uses; a mismatch can mean someone is in the path.',
    );
  }
  let top = leaf;
  for (let i = 0; i < 10 && top.issuerCertificate && top.issuerCertificate !== top; i++) top = top.issuerCertificate;
  return {
    ca: [toPem(top.raw)],
    // The pin replaces the host name check; the leaf is checked against it on every connection.
    checkServerIdentity: (_host, cert) =>
      fingerprint(cert.raw) === want ? undefined : new Error(`certificate ${fingerprint(cert.raw)} is not ${want}`),
  };
}
