import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { publicKeyProblem, publicKeyString } from '../../build/agent-client/operator-key.js';
import { parsePin } from '../../build/agent-client/tls-pin.js';
import { audienceOf, mintToken, parseTtl } from '../../build/agent-client/token.js';
import { TEST_PUBLIC_KEY, testKey } from '../helpers/operator.js';

describe('operator keys, tokens and pins (client side)', () => {
  it('writes public keys in the form core0 reads, and spots private or malformed ones', () => {
    assert.equal(publicKeyString(testKey), TEST_PUBLIC_KEY);
    assert.equal(publicKeyProblem(TEST_PUBLIC_KEY), undefined);
    assert.match(publicKeyProblem('ssh-ed25519 AAAA') ?? '', /must start with "ed25519:"/);
    assert.match(publicKeyProblem(`${TEST_PUBLIC_KEY}=`) ?? '', /43 base64url characters/);
  });

  it('mints an EdDSA JWT with aud, iat, exp that verifies with the public key', () => {
    const token = mintToken(testKey, { aud: audienceOf({ node: 'zos-1', farm: '7' }), ttlS: 600, now: 1000 });
    const [h, p, s] = token.split('.') as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'EdDSA', typ: 'JWT' });
    assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url').toString()), {
      aud: ['zos-1', 'farm:7'],
      iat: 1000,
      exp: 1600,
    });
    const pub = createPublicKey(testKey);
    assert.ok(verify(null, Buffer.from(`${h}.${p}`), pub, Buffer.from(s, 'base64url')));
  });

  it('parses lifetimes up to the 24 h a node accepts', () => {
    assert.deepEqual([parseTtl('90'), parseTtl('90s'), parseTtl('10m'), parseTtl('24h')], [90, 90, 600, 86_400]);
    assert.throws(() => parseTtl('25h'), /--ttl 25h: must be between 1 s and 24 h/);
    assert.throws(() => parseTtl('0'), /between/);
    assert.throws(() => parseTtl('ten'), /not a duration/);
  });

  it('normalizes pins as users paste them, and refuses anything else', () => {
    const fp = `sha256:${'AB:'.repeat(31)}CD`;
    assert.equal(parsePin(fp.toLowerCase()), fp);
    assert.equal(parsePin(`${'ab'.repeat(31)}cd`), fp);
    assert.throws(() => parsePin('sha256:AB:CD'), /--pin sha256:AB:CD: not a SHA-256 fingerprint/);
    assert.throws(() => parsePin(`sha1:${'AB:'.repeat(19)}AB`), /not a SHA-256/);
  });
});
