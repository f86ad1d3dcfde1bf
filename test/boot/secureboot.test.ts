/**
 * UEFI Secure Boot: OVMF's secboot firmware with Debian's snakeoil certificate enrolled (PK, KEK, db)
 * and the snakeoil key as the build's signing key. A signed build (made here with `build --sign-key
 * --sign-cert`, reusing the step cache, so only the artifact steps run) boots to the agent from zos.efi,
 * usb.img and zos.iso; the unsigned zos.efi and a signed one with one byte flipped are refused by the
 * firmware. Also: the key never reaches the signed build's files or logs, and a signed zos.efi minus
 * its signature is the unsigned one, byte for byte.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { AgentClient } from '../../build/agent-client/client.js';
import { testAuth } from '../helpers/operator.js';
import { PART_START_SECTOR } from '../../build/artifacts/disk.js';
import { bootVm, freePort, type BootOptions } from '../../build/qemu/index.js';
import { SECURE, SNAKEOIL_CERT, decryptedSnakeoilKey } from '../helpers/snakeoil.js';
import {
  BOOT_TIMEOUT_MS,
  OUT,
  REPO,
  artifact,
  assertSecureBootOn,
  bannerRe,
  bootExpectBanner,
  consoleLogPath,
  espWith,
  execFileP,
  expectedVersion,
  manifest,
  need,
  tempDir,
} from './helpers.js';

/** The firmware's refusal of an image whose signature is missing, unknown or broken. */
const REFUSED = /BdsDxe: failed to (load|start) Boot\d+ .*: (Access Denied|Security Violation)/;

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Boots under Secure Boot to the agent, and checks the kernel saw Secure Boot on (so a firmware that
 * silently ran with it off could not make the signed boots pass).
 */
async function bootSigned(t: TestContext, name: string, opts: Omit<BootOptions, 'consoleLog' | 'firmware'>) {
  await bootExpectBanner(t, name, { firmware: 'uefi', secureBoot: SECURE, ...opts }, (agent) =>
    assertSecureBootOn(agent, name),
  );
}

/**
 * Boots under Secure Boot and expects the firmware to refuse the image: its refusal on the console,
 * no kernel banner, and no agent answering on the forwarded port for a while after.
 */
async function bootExpectRefused(t: TestContext, name: string, opts: Omit<BootOptions, 'consoleLog'>): Promise<void> {
  const consoleLog = consoleLogPath(name);
  const port = await freePort();
  const vm = await bootVm({
    memoryMb: 512,
    lifetimeMs: BOOT_TIMEOUT_MS + 30_000,
    ...opts,
    hostfwd: [{ hostPort: port, guestPort: 6379 }],
    consoleLog,
  });
  try {
    const [line] = await vm.waitFor(REFUSED, BOOT_TIMEOUT_MS);
    t.diagnostic(`${name}: firmware said "${line}"`);
    const answered = await AgentClient.waitForAgent({ host: '127.0.0.1', port, ...testAuth() }, 15_000).then(
      async (a) => {
        await a.close();
        return true;
      },
      () => false,
    );
    assert.equal(answered, false, `${name}: an agent answered although the firmware refused the image`);
    assert.doesNotMatch(vm.console(), bannerRe(expectedVersion()), `${name}: the refused image booted anyway`);
    assert.doesNotMatch(vm.console(), /Linux version \d/, `${name}: a kernel started`);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}\n(full console: ${consoleLog})`);
  } finally {
    await vm.kill();
  }
}

describe('Secure Boot (OVMF secboot firmware, snakeoil key enrolled)', () => {
  let scratch = '';
  let key = '';
  /** out/<profile>/ of the signed build. */
  let signed = '';
  let logs = '';

  before(async () => {
    scratch = await tempDir('secureboot');
    // The build refuses passphrase-protected keys (it cannot answer a prompt): decrypt a copy.
    key = await decryptedSnakeoilKey(scratch);
    const profile = (manifest() as { profile?: string }).profile ?? 'qemu';
    const out = join(scratch, 'out');
    await execFileP(
      process.execPath,
      [join(REPO, 'dist/build/cli/main.js'), 'build', '--profile', profile, '--out', out],
      {
        cwd: REPO,
        env: { ...process.env, ZOS_SIGN_KEY: key, ZOS_SIGN_CERT: SNAKEOIL_CERT, CI: 'true' },
        maxBuffer: 64 << 20,
      },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`signed build failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    signed = join(out, profile);
    logs = join(out, 'logs', profile);
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('every EFI binary a firmware loads is signed by the certificate', async () => {
    const efis = ['zos.efi', 'netboot/zos-net.efi', 'netboot/ipxe.efi', 'netboot/snponly.efi']
      .map((f) => join(signed, f))
      .filter((f) => existsSync(f));
    // The UEFI loaders inside the images, read back with mtools and xorriso.
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    const fromFat = async (image: string, name: string) => {
      const dest = join(scratch, name);
      await execFileP('mcopy', ['-n', '-i', image, '::/EFI/BOOT/BOOTX64.EFI', dest], { env });
      efis.push(dest);
    };
    for (const img of ['usb.img', 'usb-netboot.img'].filter((f) => existsSync(join(signed, f))))
      await fromFat(`${join(signed, img)}@@${PART_START_SECTOR * 512}`, `${img}.bootx64.efi`);
    if (existsSync(join(signed, 'zos.iso'))) {
      const tree = join(scratch, 'iso.bootx64.efi');
      const efiboot = join(scratch, 'iso-efiboot.img');
      await execFileP('xorriso', [
        '-osirrox',
        'on',
        '-indev',
        join(signed, 'zos.iso'),
        '-extract',
        '/EFI/BOOT/BOOTX64.EFI',
        tree,
      ]);
      await execFileP('xorriso', [
        '-osirrox',
        'on',
        '-indev',
        join(signed, 'zos.iso'),
        '-extract',
        '/boot/efiboot.img',
        efiboot,
      ]);
      efis.push(tree);
      await fromFat(efiboot, 'iso-efiboot.bootx64.efi');
    }
    assert.ok(efis.length >= 4, `too few EFI binaries found: ${efis.join(', ')}`);
    for (const f of efis) {
      const { stdout, stderr } = await execFileP('sbverify', ['--cert', SNAKEOIL_CERT, f]);
      assert.match(`${stdout}${stderr}`, /Signature verification OK/, f);
    }
  });

  test('the private key appears in no file and no log of the signed build', async () => {
    // Private parts only (the modulus is public: it is in the certificate every signature carries):
    // the private exponent's bytes, and a line of the PEM body that lies past the modulus.
    const jwk = createPrivateKey(await readFile(key)).export({ format: 'jwk' });
    const secret = Buffer.from(jwk.d!, 'base64url').subarray(16, 80);
    const pemBody = (await readFile(key, 'utf8')).split('\n')[12]!;
    assert.ok(pemBody.length >= 60, 'the key PEM is shorter than expected');
    const files = [...(await walk(signed)), ...(await walk(logs))];
    assert.ok(files.length > 5, `too few files under ${signed}`);
    for (const f of files) {
      const b = await readFile(f);
      assert.equal(b.indexOf(pemBody), -1, `${f} holds the key (PEM)`);
      assert.equal(b.indexOf(secret), -1, `${f} holds the key (private exponent)`);
    }
    const m = await readFile(join(signed, 'manifest.json'), 'utf8');
    assert.doesNotMatch(m, /snakeoil\.key/, 'manifest.json names the key file');
    // What it does say: which certificate the build is signed for.
    const fingerprint = new X509Certificate(await readFile(SNAKEOIL_CERT)).fingerprint256.replace(/:/g, '');
    const secureBoot = (JSON.parse(m) as { secureBoot?: { certSha256: string } }).secureBoot;
    assert.equal(secureBoot?.certSha256, fingerprint.toLowerCase(), 'manifest.json secureBoot.certSha256');
  });

  test('a signed zos.efi without its signature is the unsigned zos.efi, byte for byte', async (t) => {
    if (!need(t, 'zos.efi')) return;
    const unsigned = manifest() as { sourceDateEpoch?: number; version?: string };
    const ours = JSON.parse(await readFile(join(signed, 'manifest.json'), 'utf8')) as typeof unsigned;
    if (unsigned.sourceDateEpoch !== ours.sourceDateEpoch || unsigned.version !== ours.version) {
      t.skip(`${OUT} was built with another version or SOURCE_DATE_EPOCH than this test's signed build`);
      return;
    }
    const copy = join(scratch, 'stripped.efi');
    await copyFile(join(signed, 'zos.efi'), copy);
    await execFileP('sbattach', ['--remove', copy]);
    assert.ok((await readFile(copy)).equals(await readFile(artifact('zos.efi'))), 'stripped signed != unsigned');
  });

  test('signed zos.efi boots to the agent', async (t) => {
    const esp = await espWith(join(signed, 'zos.efi'), scratch, 'esp-signed');
    await bootSigned(t, 'sb-efi-signed', { disk: { file: esp, as: 'virtio' } });
  });

  test('signed usb.img boots to the agent (firmware -> signed zos.efi)', async (t) => {
    if (!existsSync(join(signed, 'usb.img'))) return t.skip('no usb.img in this profile');
    await bootSigned(t, 'sb-usb-signed', { disk: { file: join(signed, 'usb.img'), as: 'usb' } });
  });

  test('signed zos.iso boots to the agent from a CD', async (t) => {
    if (!existsSync(join(signed, 'zos.iso'))) return t.skip('no zos.iso in this profile');
    await bootSigned(t, 'sb-iso-signed', { cdrom: join(signed, 'zos.iso') });
  });

  test('unsigned zos.efi is refused by the firmware', async (t) => {
    if (!need(t, 'zos.efi')) return;
    const esp = await espWith(artifact('zos.efi'), scratch, 'esp-unsigned');
    await bootExpectRefused(t, 'sb-efi-unsigned', {
      firmware: 'uefi',
      secureBoot: SECURE,
      disk: { file: esp, as: 'virtio' },
    });
  });

  test('signed zos.efi with one byte flipped is refused by the firmware', async (t) => {
    const tampered = join(scratch, 'tampered.efi');
    const b = await readFile(join(signed, 'zos.efi'));
    // The middle of the image (inside the initramfs section): the signature covers every byte outside
    // the certificate table, so any flip must be caught.
    const at = Math.floor((await stat(join(signed, 'zos.efi'))).size / 2);
    b[at] = b[at]! ^ 0x01;
    await writeFile(tampered, b);
    const esp = await espWith(tampered, scratch, 'esp-tampered');
    await bootExpectRefused(t, 'sb-efi-tampered', {
      firmware: 'uefi',
      secureBoot: SECURE,
      disk: { file: esp, as: 'virtio' },
    });
  });
});
