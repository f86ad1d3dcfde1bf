/**
 * The suite's throwaway operator key (test/fixtures/operator-key/README.md: never enrolled anywhere but
 * the qemu test profile) and the connection options the tests use with it.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintToken } from '../../build/agent-client/token.js';
import type { ConnectOptions } from '../../build/agent-client/types.js';
import { repoDir } from '../../build/paths.js';

export const TEST_KEY_FILE = join(repoDir, 'test/fixtures/operator-key/test-operator.pem');
export const testKey = createPrivateKey(readFileSync(TEST_KEY_FILE));
export const TEST_PUBLIC_KEY = 'ed25519:6lerb0hUmgAEOGO3ElAPgtEej-d_zTEv2Pf_YIDViS0';

/** The line core0 prints at boot: `TLS fingerprint sha256:AB:...`; group 1 is the pin. */
export const FINGERPRINT_RE = /TLS fingerprint (sha256:[0-9A-F]{2}(?::[0-9A-F]{2}){31})/;

/**
 * Token and TLS options: an hour-long token for the node its certificate names (the suite keeps clients
 * open for many minutes), TLS pinned to `pin` when given, else trusted on first use.
 */
export function testAuth(pin?: string): Pick<ConnectOptions, 'token' | 'tls'> {
  return {
    token: (node: string) => mintToken(testKey, { aud: node, ttlS: 3600, sub: 'zos-build tests' }),
    tls: pin === undefined ? {} : { pin },
  };
}
