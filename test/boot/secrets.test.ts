/**
 * No secret in any artifact (issue 14): a node is given only public material. Builds nothing: reads every
 * file of the built qemu profile's out dir, the decompressed initramfs and what the generic profile
 * generates, and looks for the old shared password and private key material (PEM headers, the test
 * operator key's private bytes in raw, base64 and base64url form) everywhere, and for a password setting
 * (`zos.password=x`, a `password=` config line) in every file that is not a program (core0's own code
 * names the retired setting to warn about it).
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { bootCommandLine } from '../../build/artifacts/scripts.js';
import { generatedFiles } from '../../build/image/generated.js';
import type { Profile } from '../../build/profile/types.js';
import generic from '../../config/generic.js';
import qemu from '../../config/qemu.js';
import { CORE0_CONF, core0Conf } from '../../recipes/core0/conf.js';
import { readNewcImage } from '../helpers/newc-read.js';
import { TEST_KEY_FILE } from '../helpers/operator.js';
import { OUT, initramfsCpio } from './helpers.js';

/** The test key's 32-byte private seed: the last bytes of its PKCS#8 DER. */
const seed = createPrivateKey(readFileSync(TEST_KEY_FILE)).export({ format: 'der', type: 'pkcs8' }).subarray(-32);

const FORBIDDEN: [string, Buffer | RegExp][] = [
  ['the old qemu password', Buffer.from('zos-qemu-test')],
  ['a zos.password= setting', /zos\.password=[^\s"*]/],
  ['a password= config line', /(^|\n)\s*password\s*=/],
  ['a PEM private key', Buffer.from('PRIVATE KEY-----')],
  ['the test private key (raw)', seed],
  ['the test private key (base64)', Buffer.from(seed.toString('base64').slice(0, 40))],
  ['the test private key (base64url)', Buffer.from(seed.toString('base64url').slice(0, 40))],
];

const isProgram = (data: Buffer) => data.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'));

function findSecrets(where: string, data: Buffer): string[] {
  const text = isProgram(data) ? undefined : data.toString('latin1');
  return FORBIDDEN.filter(([, needle]) =>
    needle instanceof RegExp ? text !== undefined && needle.test(text) : data.includes(needle),
  ).map(([what]) => `${where}: ${what}`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('no secret in any artifact', () => {
  it(`every file of ${OUT} (boot configs, disk images, manifest, report) and the unpacked initramfs`, async () => {
    const files = filesUnder(OUT);
    assert.ok(files.length > 5, `${OUT} holds ${files.length} files: build the qemu profile first`);
    const found = files.flatMap((f) => findSecrets(relative(OUT, f), readFileSync(f)));
    const cpio = await initramfsCpio();
    for (const rec of readNewcImage(cpio).archives.flat())
      found.push(...findSecrets(`initramfs:${rec.name}`, rec.data));
    assert.deepEqual(found, []);
    // And the positive side: the image does carry the operator's public key, so the search looked.
    assert.ok(cpio.includes(Buffer.from(`operator_keys=${qemu.agent.operatorKeys![0]}`)), 'core0.conf has the key');
  });

  it("the generic profile generates no secret (os-release, the agent's config and boot command line)", () => {
    const files = generatedFiles({ profileName: generic.name, version: '1.0.0', buildId: 'x' });
    const found = files.flatMap((f) => findSecrets(f.path, Buffer.from(f.data)));
    found.push(...findSecrets(CORE0_CONF, Buffer.from(core0Conf(generic as Profile))));
    found.push(...findSecrets('kernel command line', Buffer.from(bootCommandLine(generic as Profile))));
    assert.deepEqual(found, []);
  });
});
