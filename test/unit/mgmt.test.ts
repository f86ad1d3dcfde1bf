/**
 * Outbound mode, host side: management URLs, node ids, the admission ACL (the same command core0's Go
 * code documents), pins, and pinned TLS against real TLS servers on 127.0.0.1 with openssl-made
 * certificates.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { connect, createServer, type ConnectionOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { aclSetUser, checkNodeId, parseMgmtUrl } from '../../build/agent-client/mgmt.js';
import { parsePin, pinTls } from '../../build/agent-client/tls-pin.js';
import { ZosError } from '../../build/util/errors.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { imageTmpDir } from '../helpers/image-tools.js';

describe('outbound mode: management URL, node id, admission ACL', () => {
  it('accepts rediss://HOST[:PORT] only', () => {
    assert.deepEqual(parseMgmtUrl('rediss://10.0.2.2:6380'), { host: '10.0.2.2', port: 6380, tls: true });
    assert.deepEqual(parseMgmtUrl('rediss://[fd00::1]'), { host: 'fd00::1', port: 6379, tls: true });
    for (const bad of ['redis://h:1', 'http://h:1', 'rediss://op:pw@h:1', 'rediss://h:1/0', 'h:1']) {
      assert.throws(() => parseMgmtUrl(bad), ZosError, bad);
    }
    assert.equal(parseMgmtUrl('redis://h:1', true).tls, false);
  });

  it('admits a node to its own keys and the five commands core0 uses', () => {
    // Word for word the command of agent/internal/outbound's TestACLSetUser: the two sides agree.
    assert.equal(
      aclSetUser('zos-5254', 'AB'.repeat(32)).join(' '),
      `ACL SETUSER node-zos-5254 reset on #${'ab'.repeat(32)} ~node:zos-5254:* resetchannels -@all ` +
        '+ping +blpop +rpush +expire +ltrim',
    );
    assert.throws(() => aclSetUser('zos-5254', 'abc'), /--sha256/);
    // A node id becomes an ACL key pattern: no glob characters, no spaces.
    for (const bad of ['zos-*', 'a?b', 'a[b]', 'a b', '', '-a', 'a..b']) {
      assert.throws(() => checkNodeId(bad), /--node/, bad);
    }
  });

  it('reads pins with or without colons, any case', () => {
    const hex = 'ab'.repeat(32);
    const fp = `sha256:${'AB:'.repeat(31)}AB`;
    assert.equal(parsePin(`sha256:${hex}`), fp);
    assert.equal(parsePin(`SHA256:${'AB:'.repeat(31)}AB`), fp);
    for (const bad of ['sha256:abc', `sha1:${hex}`]) assert.throws(() => parsePin(bad), /--pin/);
  });
});

async function selfSigned(dir: string, name: string): Promise<{ key: Buffer; cert: Buffer; pin: string }> {
  const c = await selfSignedCert(dir, name);
  return { key: await readFile(c.keyFile), cert: await readFile(c.certFile), pin: c.pin };
}

/** A TLS server on 127.0.0.1 that answers "hello" to whoever completes the handshake. */
async function tlsServer(c: { key: Buffer; cert: Buffer }): Promise<{ port: number; close: () => void }> {
  const server = createServer({ key: c.key, cert: c.cert }, (s) => s.end('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

function fetchHello(port: number, opts: ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect({ host: '127.0.0.1', port, ...opts });
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

describe('pinned TLS', () => {
  it('connects to the pinned certificate and refuses any other', async (t) => {
    const { dir, cleanup } = await imageTmpDir('pin');
    t.after(cleanup);
    const [a, b] = [await selfSigned(dir, 'a'), await selfSigned(dir, 'b')];
    const sa = await tlsServer(a);
    const sb = await tlsServer(b);
    try {
      const pinned = await pinTls('127.0.0.1', sa.port, parsePin(a.pin), 5000);
      const opts = pinned.options;
      assert.equal(await fetchHello(sa.port, opts), 'hello');
      // The openssl fingerprint and ours are the same pin.
      assert.equal(pinned.fingerprint, parsePin(a.pin));
      // The probe refuses a server with another certificate before any credential is sent...
      await assert.rejects(pinTls('127.0.0.1', sb.port, parsePin(a.pin), 5000), /not the pinned/);
      // ...and options made for A do not let a connection to B through.
      await assert.rejects(fetchHello(sb.port, opts));
    } finally {
      sa.close();
      sb.close();
    }
  });
});
